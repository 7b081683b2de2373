"""Statements built once and reused, so a hot path pays for executing SQL, not for building it.

Building a SQLAlchemy statement (and its cache key) costs far more than running it on SQLite. A
statement built once keeps its compiled form in the engine's cache, so every later execution skips
both. What varies per request travels as named bound parameters: ``me`` (the viewer's actor id),
``ids`` (an expanding ``IN`` list) and whatever a builder names.

``Prepared`` caches a builder's statement per *shape*: the viewer's kind (anonymous, local member,
remote actor of a domain) and the builder's own flags. The viewer handed to the builder is a
template whose ``actor_id`` is the ``me`` parameter, so the visibility clause of
``server.visibility`` is built by that module as always and filled in at execution.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa

from server.storage.schema import Id
from server.visibility import Viewer

S = TypeVar("S", bound=sa.Executable)
ME = sa.bindparam("me", type_=Id)
IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_MAX_SHAPES = 512


def viewer_shape(viewer: Viewer) -> tuple[bool, bool, str | None, bool]:
    """What makes two viewers' visibility clauses differ in form (not in values)."""
    return (viewer.actor_id is None, viewer.local, viewer.domain, viewer.is_admin)


def template(viewer: Viewer) -> Viewer:
    """A viewer of the same shape whose actor id is the ``me`` parameter."""
    if viewer.actor_id is None:
        return viewer
    return Viewer(
        actor_id=cast(int, ME),  # a bound parameter stands in for the id
        local=viewer.local,
        domain=viewer.domain,
        is_admin=viewer.is_admin,
    )


def viewer_params(viewer: Viewer) -> dict[str, Any]:
    """The parameters a statement built for ``template(viewer)`` needs."""
    return {"me": viewer.actor_id}


class Prepared(Generic[S]):
    """A statement per (viewer shape, flags), built on first use by ``build(viewer, *flags)``."""

    def __init__(self, build: Callable[..., S]) -> None:
        self._build = build
        self._cache: dict[Hashable, S] = {}
        self._lock = threading.Lock()

    def get(self, viewer: Viewer | None = None, *flags: Hashable) -> S:
        """The statement for this viewer's shape and these flags."""
        key = (viewer_shape(viewer) if viewer is not None else None, flags)
        stmt = self._cache.get(key)
        if stmt is None:
            stmt = (
                self._build(template(viewer), *flags) if viewer is not None else self._build(*flags)
            )
            with self._lock:
                if len(self._cache) >= _MAX_SHAPES:
                    self._cache.clear()
                self._cache[key] = stmt
        return stmt


def prepared(build: Callable[..., S]) -> Prepared[S]:
    """Decorator form: ``@prepared`` over a builder gives its ``Prepared``."""
    return Prepared(build)
