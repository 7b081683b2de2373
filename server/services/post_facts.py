"""What a status shows that changes often or depends on the viewer, read fresh for every answer
in a fixed number of batched statements: the counts, the replies the viewer may see, the
viewer's favourites, bookmarks, pins and boosts, muted threads, and polls with their counts and
the viewer's votes. The rest of a status is the same for everyone and cached
(``api.status_cache``).

``heads_in`` also decides which boosted originals the viewer may see, by ``server.visibility``,
as ``views.posts_in`` does; callers pass ids they obtained through the visibility module.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from server import clock
from server.services import account_counts
from server.services.views import PollView, polls_in, visible_replies_in
from server.storage import schema as t
from server.storage.prepared import IDS, ME, prepared, rows, viewer_params
from server.visibility import Viewer, posts_visible_to

_P = t.posts
_HEAD_COLUMNS = (
    _P.c.id,
    _P.c.reblog_of_id,
    _P.c.author_id,
    _P.c.thread_root_id,
    _P.c.edited_at,
    _P.c.deleted_at,
    _P.c.reblogs_count,
    _P.c.favourites_count,
)
_HEADS = sa.select(*_HEAD_COLUMNS).where(_P.c.id.in_(IDS))


@prepared
def _visible_heads(viewer: Viewer) -> sa.Select:
    return sa.select(*_HEAD_COLUMNS).where(_P.c.id.in_(IDS), posts_visible_to(viewer))


_ROOTS: sa.BindParameter[list[int]] = sa.bindparam("roots", expanding=True)
_NOW = sa.bindparam("now", type_=t.filters.c.expires_at.type)


@prepared
def _flags(viewer: Viewer, muted: bool, filtered: bool) -> sa.CompoundSelect:
    """(kind, id) rows of a member: f favourite, b bookmark, n pin, o own boost (post ids); with
    ``muted`` m, the thread roots (``roots``) muted; with ``filtered`` x, the active filters
    (whether any applies is decided from them, by ``filters.active_in``)."""
    parts = [
        sa.select(sa.literal(kind, sa.String), table.c.post_id).where(
            table.c.post_id.in_(IDS), table.c.actor_id == ME
        )
        for kind, table in (("f", t.favourites), ("b", t.bookmarks), ("n", t.pins))
    ]
    # ``+ 0``: found through the boosted posts' index, not by reading all the viewer's posts
    parts.append(
        sa.select(sa.literal("o", sa.String), _P.c.reblog_of_id).where(
            _P.c.reblog_of_id.in_(IDS), _P.c.author_id + 0 == ME, _P.c.deleted_at.is_(None)
        )
    )
    if muted:
        mutes = t.conversation_mutes
        parts.append(
            sa.select(sa.literal("m", sa.String), mutes.c.thread_root_id).where(
                mutes.c.actor_id == ME, mutes.c.thread_root_id.in_(_ROOTS)
            )
        )
    if filtered:
        f = t.filters
        parts.append(
            sa.select(sa.literal("x", sa.String), f.c.id).where(
                f.c.actor_id == ME, sa.or_(f.c.expires_at.is_(None), f.c.expires_at > _NOW)
            )
        )
    return sa.union_all(*parts)


@dataclass(slots=True)
class Head:
    """A post's row as far as a status needs it fresh."""

    id: int
    reblog_of_id: int | None
    author_id: int
    thread_root_id: int | None
    edited_at: datetime | None
    deleted_at: datetime | None
    reblogs_count: int
    favourites_count: int


@dataclass(slots=True)
class Facts:
    """The fresh, viewer-dependent part of a page of statuses."""

    replies: dict[int, int] = field(default_factory=dict)
    flags: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    muted_roots: set[int] = field(default_factory=set)
    polls: dict[int, PollView] = field(default_factory=dict)
    hidden_totals: set[int] = field(default_factory=set)
    filtered: bool = False  # the viewer has active filters (asked with ``with_filters``)


def heads_in(
    conn: sa.Connection, viewer: Viewer, ids: list[int]
) -> tuple[dict[int, Head], dict[int, Head]]:
    """The posts ``ids`` (already visibility-checked) and the originals of the boosts among them
    that the viewer may see and that are not deleted (a unit-of-work function)."""
    heads = {r[0]: Head(*r) for r in rows(conn, _HEADS, {"ids": ids})}
    reblog_ids = list({h.reblog_of_id for h in heads.values() if h.reblog_of_id})
    originals: dict[int, Head] = {}
    if reblog_ids:
        params = {**viewer_params(viewer), "ids": reblog_ids}
        for r in rows(conn, _visible_heads.get(viewer), params):
            head = Head(*r)
            if head.deleted_at is None:
                originals[head.id] = head
    return heads, originals


def shown_of(
    ids: list[int], heads: dict[int, Head], originals: dict[int, Head]
) -> tuple[list[Head], dict[int, Head]]:
    """Of ``heads_in``'s answer: the posts shown, in the order of ``ids`` (a boost only with its
    original), and every post rendered for them (the shown and their originals), by id."""
    shown = [
        heads[i]
        for i in ids
        if i in heads and (heads[i].reblog_of_id is None or heads[i].reblog_of_id in originals)
    ]
    wanted = {h.id: h for h in shown}
    for h in shown:
        if h.reblog_of_id is not None:
            wanted.setdefault(h.reblog_of_id, originals[h.reblog_of_id])
    return shown, wanted


def facts_in(
    conn: sa.Connection,
    viewer: Viewer,
    post_ids: list[int],
    roots: list[int],
    with_poll: set[int],
    *,
    with_filters: bool = False,
) -> Facts:
    """Reply counts and the viewer's flags for ``post_ids``, which of the thread ``roots`` the
    viewer muted, the polls of the posts ``with_poll`` and (``with_filters``) whether the viewer
    has active filters (a unit-of-work function). The viewer's flags, muted threads and filters
    are one statement."""
    facts = Facts(replies=visible_replies_in(conn, viewer, post_ids))
    if viewer.actor_id is not None:
        stmt = _flags.get(viewer, bool(roots), with_filters)
        params = {"me": viewer.actor_id, "ids": post_ids, "roots": roots}
        if with_filters:
            params["now"] = clock.now()
        for kind, found_id in rows(conn, stmt, params):
            if kind == "m":
                facts.muted_roots.add(found_id)
            elif kind == "x":
                facts.filtered = True
            else:
                facts.flags[kind].add(found_id)
    if with_poll:
        facts.polls = polls_in(conn, viewer, with_poll)
        facts.hidden_totals = account_counts.hidden_totals_in(conn, list(with_poll))
    return facts
