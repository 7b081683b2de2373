"""Join requests and managers of a community, as partner instances see and decide them.

A manager on another instance reads a local community's pending requests and approves or declines
one (``server/activitypub/communities/management.py`` translates the activities); a manager here
of a community hosted elsewhere sends their decision to its Group. The rows are read here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import Forbidden, NotFound
from server.services import communities
from server.storage import schema as t


async def pending_requests(conn: AsyncConnection, group_id: int, limit: int) -> list[sa.Row]:
    """The oldest ``limit`` pending joins of a Group: (uri, created_at, actor, display_name,
    username, domain) of each ``Follow`` and its requester."""
    f = t.follows
    return list(
        await conn.execute(
            sa.select(
                f.c.uri,
                f.c.created_at,
                t.actors.c.uri.label("actor"),
                t.actors.c.display_name,
                t.actors.c.username,
                t.actors.c.domain,
            )
            .join(t.actors, t.actors.c.id == f.c.follower_id)
            .where(f.c.target_id == group_id, f.c.state == "pending")
            .order_by(f.c.id)
            .limit(limit)
        )
    )


async def join_follow_by_uri(conn: AsyncConnection, uri: str) -> tuple[int, int] | None:
    """(follower id, Group actor id) of the follow ``uri`` of a LOCAL Group, or None."""
    f = t.follows
    row = (
        await conn.execute(
            sa.select(f.c.follower_id, f.c.target_id)
            .join(t.actors, t.actors.c.id == f.c.target_id)
            .where(f.c.uri == uri, t.actors.c.kind == "group", t.actors.c.domain.is_(None))
        )
    ).first()
    return (int(row.follower_id), int(row.target_id)) if row else None


async def community_of_group(conn: AsyncConnection, group_actor_id: int) -> sa.Row | None:
    """The ``communities`` row of a Group actor, or None."""
    c = t.communities
    return (await conn.execute(sa.select(c).where(c.c.actor_id == group_actor_id))).first()


async def manager_and_group(
    conn: AsyncConnection, manager_id: int, community_id: int
) -> tuple[sa.Row, sa.Row]:
    """(manager actor, Group actor) of a community hosted ELSEWHERE that ``manager_id`` manages;
    NotFound for a local or unknown community, Forbidden for anyone but its managers."""
    community = (
        await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
    ).first()
    if community is None or community.local:
        raise NotFound("no such community on another instance")
    if not await communities.is_manager(conn, community_id, manager_id):
        raise Forbidden("only the community's managers can do this")
    manager = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == manager_id))).one()
    group = (
        await conn.execute(sa.select(t.actors).where(t.actors.c.id == community.actor_id))
    ).one()
    return manager, group
