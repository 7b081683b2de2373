"""Who receives a post's activities: remote inboxes per audience (DESIGN.md, Visibility table).

``members`` never leaves; ``partners`` only reaches followers on partner hosts; ``direct`` only the
mentioned; ``community`` goes to the Group (a local Group re-announces it itself).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import inboxes_for
from server.activitypub.posts.objects import community_actor
from server.storage import schema as t
from server.visibility import Audience


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
        q = q.where(
            t.actors.c.domain.in_(
                sa.select(t.partners.c.domain).where(t.partners.c.state == "active")
            )
        )
    return [r[0] for r in await conn.execute(q)]


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
        q = q.where(
            t.actors.c.domain.in_(
                sa.select(t.partners.c.domain).where(t.partners.c.state == "active")
            )
        )
    return [r[0] for r in await conn.execute(q)]


async def _remote_parent_author(conn: AsyncConnection, post: sa.Row) -> list[int]:
    """A reply also goes to the remote author it answers (so it threads there)."""
    if post.in_reply_to_id is None:
        return []
    row = (
        await conn.execute(
            sa.select(t.actors.c.id)
            .join(t.posts, t.posts.c.author_id == t.actors.c.id)
            .where(t.posts.c.id == post.in_reply_to_id, t.actors.c.domain.is_not(None))
        )
    ).first()
    return [row[0]] if row else []


async def post_recipients(conn: AsyncConnection, post: sa.Row) -> list[str]:
    """The author's Create/Update/Delete inboxes for a post (not the Group's re-announce)."""
    audience = Audience(post.audience)
    if not audience.federates:
        return []
    if audience is Audience.DIRECT:
        return await inboxes_for(conn, await remote_mentioned(conn, post.id))
    if audience is Audience.PARTNERS:
        actors = await remote_followers(conn, post.author_id, partner_hosts_only=True)
        return await inboxes_for(
            conn, actors + await remote_mentioned(conn, post.id, partner_hosts_only=True)
        )
    actors = await remote_mentioned(conn, post.id)
    actors += await _remote_parent_author(conn, post)
    group = await community_actor(conn, post.community_id)
    if audience is Audience.COMMUNITY:
        if group is not None and group.domain is not None:
            actors.append(group.id)
        return await inboxes_for(conn, actors)
    actors += await remote_followers(conn, post.author_id)
    if group is not None and group.domain is not None:
        actors.append(group.id)
    return await inboxes_for(conn, actors)


async def group_recipients(
    conn: AsyncConnection, post: sa.Row, *, exclude_actor: int | None = None
) -> tuple[sa.Row, list[str]] | None:
    """A LOCAL community's Group and its remote members' inboxes, for the Group's Announce."""
    group = await community_actor(conn, post.community_id)
    if group is None or group.domain is not None:
        return None
    members = [m for m in await remote_followers(conn, group.id) if m != exclude_actor]
    return group, await inboxes_for(conn, members)
