"""The remote actors a local actor or post reaches: accepted remote followers, the remote actors
an actor follows, the remote people a post mentions or answers.

The ActivityPub side turns them into inboxes (``federation.delivery.inboxes_for``); which of them an
audience reaches is its rule (``activitypub/core/recipients.py``, DESIGN.md's visibility table).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t


def _on_partner_hosts(query: sa.Select) -> sa.Select:
    """Only the actors on the hosts of active partners."""
    return query.where(
        t.actors.c.domain.in_(sa.select(t.partners.c.domain).where(t.partners.c.state == "active"))
    )


async def remote_followers(
    conn: AsyncConnection, target_id: int, *, partner_hosts_only: bool = False
) -> list[int]:
    """Accepted remote followers of an actor (optionally only those on active partner hosts)."""
    q = (
        sa.select(t.actors.c.id)
        .join(t.follows, t.follows.c.follower_id == t.actors.c.id)
        .where(
            t.follows.c.target_id == target_id,
            t.follows.c.state == "accepted",
            t.actors.c.domain.is_not(None),
        )
    )
    if partner_hosts_only:
        q = _on_partner_hosts(q)
    return [r[0] for r in await conn.execute(q)]


async def remote_followed(conn: AsyncConnection, actor_id: int) -> list[int]:
    """The remote actors ``actor_id`` follows (or asked to follow)."""
    return [
        r[0]
        for r in await conn.execute(
            sa.select(t.actors.c.id)
            .join(t.follows, t.follows.c.target_id == t.actors.c.id)
            .where(t.follows.c.follower_id == actor_id, t.actors.c.domain.is_not(None))
        )
    ]


async def remote_mentioned(
    conn: AsyncConnection, post_id: int, *, partner_hosts_only: bool = False
) -> list[int]:
    """Remote actors mentioned in a post."""
    q = (
        sa.select(t.actors.c.id)
        .join(t.post_mentions, t.post_mentions.c.actor_id == t.actors.c.id)
        .where(t.post_mentions.c.post_id == post_id, t.actors.c.domain.is_not(None))
    )
    if partner_hosts_only:
        q = _on_partner_hosts(q)
    return [r[0] for r in await conn.execute(q)]


async def remote_parent_author(conn: AsyncConnection, parent_id: int | None) -> list[int]:
    """The remote author of the post ``parent_id`` (a reply goes to them, so it threads there)."""
    if parent_id is None:
        return []
    row = (
        await conn.execute(
            sa.select(t.actors.c.id)
            .join(t.posts, t.posts.c.author_id == t.actors.c.id)
            .where(t.posts.c.id == parent_id, t.actors.c.domain.is_not(None))
        )
    ).first()
    return [row[0]] if row else []
