"""The rows of a local actor's collections as a viewer may see them: followers, following, the
outbox and pinned posts, a page at a time, and a post's replies count for that viewer.

``activitypub/core/documents.py`` shapes them into ActivityStreams collections; every listing goes
through ``server.visibility`` here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t
from server.visibility import Viewer, listed_for, memberships_shown_to, posts_visible_to


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A post of an outbox page, and for a boost the id of the boosted post."""

    post: sa.Row
    boosted_uri: str | None


async def _page(
    conn: AsyncConnection, query: sa.Select, offset: int | None, limit: int
) -> tuple[int, list[sa.Row]]:
    """How many rows ``query`` has, and those of the page at ``offset`` (none for ``None``)."""
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
    ).scalar_one()
    if offset is None:
        return int(total), []
    return int(total), list(await conn.execute(query.limit(limit).offset(offset)))


def _relations(column: sa.ColumnElement, other: sa.ColumnElement, actor_id: int) -> sa.Select:
    return (
        sa.select(t.actors.c.uri)
        .join(t.follows, other == t.actors.c.id)
        .where(column == actor_id, t.follows.c.state == "accepted")
        .order_by(t.follows.c.id.desc())
    )


async def followers(
    conn: AsyncConnection, actor_id: int, offset: int | None, limit: int
) -> tuple[int, list[str]]:
    """How many accept ``actor_id``'s follows, and the ids of a page of them, newest first."""
    total, rows = await _page(
        conn, _relations(t.follows.c.target_id, t.follows.c.follower_id, actor_id), offset, limit
    )
    return total, [r.uri for r in rows]


async def following(
    conn: AsyncConnection, viewer: Viewer, actor_id: int, offset: int | None, limit: int
) -> tuple[int, list[str]]:
    """Whom ``actor_id`` follows (a community only when ``viewer`` may see its members), as
    ``followers``."""
    query = _relations(t.follows.c.follower_id, t.follows.c.target_id, actor_id).where(
        memberships_shown_to(viewer, t.follows.c.target_id)
    )
    total, rows = await _page(conn, query, offset, limit)
    return total, [r.uri for r in rows]


async def outbox(
    conn: AsyncConnection,
    viewer: Viewer,
    offset: int | None,
    limit: int,
    *,
    author_id: int | None = None,
    community_id: int | None = None,
) -> tuple[int, list[OutboxEntry]]:
    """The listed posts (never ``members``) of an author, or of a community, ``viewer`` may see:
    how many, and a page of them, newest first."""
    where = (
        t.posts.c.author_id == author_id
        if author_id is not None
        else t.posts.c.community_id == community_id
    )
    query = (
        sa.select(t.posts.c.id)
        .where(where, listed_for(viewer), t.posts.c.audience != "members")
        .order_by(t.posts.c.id.desc())
    )
    total, rows = await _page(conn, query, offset, limit)
    entries = []
    for (post_id,) in rows:
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()
        boosted = None
        if post.reblog_of_id:
            boosted = (
                await conn.execute(
                    sa.select(t.posts.c.uri).where(t.posts.c.id == post.reblog_of_id)
                )
            ).scalar()
        entries.append(OutboxEntry(post, boosted))
    return total, entries


async def pinned(conn: AsyncConnection, viewer: Viewer, actor_id: int) -> list[int]:
    """The ids of the posts ``actor_id`` pinned that ``viewer`` may see, last pinned first."""
    rows = await conn.execute(
        sa.select(t.posts.c.id)
        .join(t.pins, t.pins.c.post_id == t.posts.c.id)
        .where(t.pins.c.actor_id == actor_id, posts_visible_to(viewer))
        .order_by(t.pins.c.id.desc())
    )
    return [int(pid) for (pid,) in rows]


async def replies_seen(conn: AsyncConnection, viewer: Viewer, post_id: int) -> int:
    """How many replies to ``post_id`` ``viewer`` may see (the stored count includes
    followers-only and direct replies, whose existence is not theirs to know)."""
    replies = t.posts.alias("replies")
    count = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(replies)
            .where(replies.c.in_reply_to_id == post_id, posts_visible_to(viewer, replies))
        )
    ).scalar_one()
    return int(count)


async def community_of_group(conn: AsyncConnection, actor_id: int) -> int | None:
    """The id of the community whose Group is ``actor_id``."""
    found = (
        await conn.execute(
            sa.select(t.communities.c.id).where(t.communities.c.actor_id == actor_id)
        )
    ).scalar()
    return None if found is None else int(found)


async def post_by(conn: AsyncConnection, author_id: int, post_id: int) -> sa.Row | None:
    """The post ``post_id`` when ``author_id`` wrote it."""
    return (
        await conn.execute(
            sa.select(t.posts).where(t.posts.c.id == post_id, t.posts.c.author_id == author_id)
        )
    ).first()
