"""Lists of communities and roles that pages offer: the organisation's communities on the front
page with their purpose in force, the communities a member may post to, a community's roles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import hot_rows
from server.storage import schema as t
from server.storage.caches import CachedMap, watch_of
from server.storage.db import Database


async def local_communities(conn: AsyncConnection) -> list[sa.Row]:
    """This organisation's communities by name, with their handle and the Group's summary."""
    return list(
        await conn.execute(
            sa.select(t.communities, t.actors.c.username.label("handle"), t.actors.c.summary_html)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.communities.c.local.is_(True))
            .order_by(t.communities.c.name)
        )
    )


async def purposes_in_force(conn: AsyncConnection) -> dict[int, str]:
    """Every community's newest purpose version (rendered), by community id."""
    return {
        r.community_id: r.text_html
        for r in await conn.execute(
            sa.select(t.purpose_versions.c.community_id, t.purpose_versions.c.text_html).where(
                t.purpose_versions.c.id.in_(
                    sa.select(sa.func.max(t.purpose_versions.c.id)).group_by(
                        t.purpose_versions.c.community_id
                    )
                )
            )
        )
    }


async def joined_communities(db: Database, actor_id: int) -> list[sa.Row]:
    """Communities the member belongs to (id, name, handle, domain), for the community choice."""
    return await db.read(joined, actor_id)


_JOINED = (
    sa.select(
        t.communities.c.id,
        t.communities.c.name,
        t.actors.c.username.label("handle"),
        t.actors.c.domain,
    )
    .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
    .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
    .where(
        t.follows.c.follower_id == sa.bindparam("actor_id", type_=t.Id),
        t.follows.c.state == "accepted",
    )
    .order_by(t.communities.c.name)
)


def _joined_cache(conn: AsyncConnection) -> CachedMap[list[sa.Row]]:
    # every signed-in page with a compose form asks; a follow, a community or an actor written
    # anywhere forgets every member's list
    return watch_of(hot_rows.engine_of(conn)).cache(
        "joined_communities",
        lambda: CachedMap[list[sa.Row]](hot_rows.TTL, 4096),
        tables=("follows", "communities", "actors"),
        kinds=("insert", "update", "delete"),
    )


async def joined(conn: AsyncConnection, actor_id: int) -> list[sa.Row]:
    """``joined_communities`` inside a unit of work (a page's own read), cached per member."""
    cache = _joined_cache(conn)
    found = cache.get(actor_id)
    if found is None:
        generation = cache.generation
        found = list(await conn.execute(_JOINED, {"actor_id": actor_id}))
        cache.put(actor_id, found, generation)
    return list(found)


async def joined_remote_communities(conn: AsyncConnection) -> list[sa.Row]:
    """Communities on other instances that members here have joined (id, name, handle, domain,
    summary_html, and how many members here), by name."""
    # The remote communities first (a community table holds few): from them, their members are
    # found by the follows' target index; a join left to the planner walked every follow of
    # every local member instead (18 ms on 28,000 follows, for no remote community at all).
    remote = list(
        (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.local.is_(False))
            )
        ).scalars()
    )
    if not remote:
        return []
    group = t.actors.alias("group_actor")
    member = t.actors.alias("member_actor")
    here = sa.func.count(sa.distinct(t.follows.c.follower_id)).label("members_here")
    return list(
        await conn.execute(
            sa.select(
                t.communities.c.id,
                t.communities.c.name,
                group.c.username.label("handle"),
                group.c.domain,
                group.c.summary_html,
                group.c.avatar_url,
                here,
            )
            .join(group, group.c.id == t.communities.c.actor_id)
            .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
            .join(member, member.c.id == t.follows.c.follower_id)
            .where(
                t.communities.c.id.in_(remote),
                t.communities.c.local.is_(False),
                t.follows.c.state == "accepted",
                member.c.domain.is_(None),
            )
            .group_by(
                t.communities.c.id,
                t.communities.c.name,
                group.c.username,
                group.c.domain,
                group.c.summary_html,
                group.c.avatar_url,
            )
            .order_by(t.communities.c.name)
        )
    )


async def role_choices(conn: AsyncConnection, community_id: int) -> list[tuple[str, str]]:
    """A community's roles as ``(id, name)`` choices, by name."""
    return [
        (str(r.id), r.name)
        for r in await conn.execute(
            sa.select(t.roles.c.id, t.roles.c.name)
            .where(t.roles.c.community_id == community_id)
            .order_by(t.roles.c.name)
        )
    ]
