"""What the write unit of a new post already knows of it, for the listeners in the same transaction.

``posts.create_post`` writes the post and emits ``POST_CREATED``; its in-transaction listeners (the
outgoing Create with its recipients, the notifications, the retirement of a scheduled post) would
read back the rows the unit has just written. For the length of the emit the unit leaves them on
its connection (``holding``): the post row as stored (returned by the statement that set its URI),
its author, the actors it mentions in order, its tags, and which of the optional parts (media,
roles, contributors, a poll) it has. A reader asks ``written(conn, post_id)`` and reads from the
database as before when the answer is None (another post, another path, another transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

_KEY = "koers.written_post"


class _HasInfo(Protocol):
    @property
    def info(self) -> dict[Any, Any]: ...


@dataclass(frozen=True, slots=True)
class WrittenPost:
    """A post written in the current transaction, as its rows stand after the write."""

    post: sa.Row
    author: sa.Row
    # the ``actors`` rows of ``post_mentions`` in the order written; None when not all are known
    mentioned: list[sa.Row] | None
    tags: tuple[str, ...]
    has_media: bool
    has_roles: bool
    has_contributors: bool
    has_poll: bool


@contextmanager
def holding(conn: _HasInfo, post: WrittenPost) -> Iterator[None]:
    """Make ``post`` known to ``written`` on ``conn`` inside the block (the emit of its event)."""
    conn.info[_KEY] = post
    try:
        yield
    finally:
        conn.info.pop(_KEY, None)


def written(conn: _HasInfo, post_id: int) -> WrittenPost | None:
    """The post ``post_id`` when the transaction on ``conn`` has just written it, else None."""
    found = conn.info.get(_KEY)
    if isinstance(found, WrittenPost) and found.post.id == post_id:
        return found
    return None
