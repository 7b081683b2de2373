"""Following and supporting roadmap items, from this instance or from any fediverse account.

One follow and one support per person per item (unique pairs). Followers receive an ``Update`` of
the item whenever its status changes (server/activitypub/roadmap/activities.py); a remote ``Like``
of the item counts as a support. A remote account may also follow a community's whole roadmap
collection (a *subscription*): it then hears of every item it may see, items created later too.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import NotFound
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from server.visibility import can_see_item


@dataclass(frozen=True, slots=True)
class Standing:
    """Counts of an item and the viewer's own follow/support."""

    supports: int
    followers: int
    following: bool
    supporting: bool


async def _visible(conn: AsyncConnection, actor_id: int, item_id: int) -> None:
    if not await can_see_item(conn, await viewer_for_actor(conn, actor_id), item_id):
        raise NotFound("no such roadmap item")


async def _add(
    ctx: Context, table: sa.Table, kind: str, actor_id: int, item_id: int, uri: str | None
) -> bool:
    async with ctx.db.write() as conn:
        await _visible(conn, actor_id, item_id)
        exists = await conn.execute(
            sa.select(table.c.id).where(table.c.item_id == item_id, table.c.actor_id == actor_id)
        )
        if exists.first():
            return False
        await conn.execute(
            table.insert().values(
                item_id=item_id, actor_id=actor_id, uri=uri, created_at=clock.now()
            )
        )
        event = await ctx.events.emit(conn, kind, item_id=item_id, actor_id=actor_id)
    await ctx.events.committed(event)
    return True


async def _remove(ctx: Context, table: sa.Table, kind: str, actor_id: int, item_id: int) -> bool:
    async with ctx.db.write() as conn:
        res = await conn.execute(
            table.delete().where(table.c.item_id == item_id, table.c.actor_id == actor_id)
        )
        if not res.rowcount:
            return False
        event = await ctx.events.emit(conn, kind, item_id=item_id, actor_id=actor_id)
    await ctx.events.committed(event)
    return True


async def follow(ctx: Context, actor_id: int, item_id: int, *, uri: str | None = None) -> bool:
    """Follow an item's status changes; False when already following."""
    return await _add(ctx, t.roadmap_followers, kinds.ROADMAP_FOLLOWED, actor_id, item_id, uri)


async def unfollow(ctx: Context, actor_id: int, item_id: int) -> bool:
    """Stop following; False when not following."""
    return await _remove(ctx, t.roadmap_followers, kinds.ROADMAP_UNFOLLOWED, actor_id, item_id)


async def support(ctx: Context, actor_id: int, item_id: int, *, uri: str | None = None) -> bool:
    """Support an item (one per person); False when already supporting."""
    return await _add(ctx, t.roadmap_supports, kinds.ROADMAP_SUPPORTED, actor_id, item_id, uri)


async def unsupport(ctx: Context, actor_id: int, item_id: int) -> bool:
    """Withdraw a support; False when there was none."""
    return await _remove(ctx, t.roadmap_supports, kinds.ROADMAP_UNSUPPORTED, actor_id, item_id)


async def support_counts(conn: AsyncConnection, item_ids: list[int]) -> dict[int, int]:
    """Supports per item (items without any are left out)."""
    if not item_ids:
        return {}
    rs = t.roadmap_supports
    rows = await conn.execute(
        sa.select(rs.c.item_id, sa.func.count())
        .where(rs.c.item_id.in_(item_ids))
        .group_by(rs.c.item_id)
    )
    return {int(i): int(n) for i, n in rows}


async def standing(conn: AsyncConnection, item_id: int, actor_id: int | None) -> Standing:
    """Counts and the viewer's own follow/support of one item (callers checked visibility)."""

    async def count(table: sa.Table) -> int:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(table.c.item_id == item_id)
                )
            ).scalar_one()
        )

    async def mine(table: sa.Table) -> bool:
        if actor_id is None:
            return False
        row = await conn.execute(
            sa.select(1).where(table.c.item_id == item_id, table.c.actor_id == actor_id)
        )
        return row.first() is not None

    # An item of a community on another instance: its home counts the supports (ours included).
    reported = (
        await conn.execute(
            sa.select(t.roadmap_items.c.supports_reported).where(t.roadmap_items.c.id == item_id)
        )
    ).scalar()
    return Standing(
        supports=int(reported) if reported is not None else await count(t.roadmap_supports),
        followers=await count(t.roadmap_followers),
        following=await mine(t.roadmap_followers),
        supporting=await mine(t.roadmap_supports),
    )


async def remote_followers(conn: AsyncConnection, item_id: int) -> list[int]:
    """Actor ids of the item's followers on other instances (the recipients of its Updates)."""
    rows = await conn.execute(
        sa.select(t.roadmap_followers.c.actor_id)
        .join(t.actors, t.actors.c.id == t.roadmap_followers.c.actor_id)
        .where(t.roadmap_followers.c.item_id == item_id, t.actors.c.domain.is_not(None))
    )
    return [int(r[0]) for r in rows]


async def subscribe(
    ctx: Context, actor_id: int, community_id: int, *, uri: str | None = None
) -> bool:
    """Follow a community's whole roadmap (every item, later ones too); False when already subscribed."""
    rs = t.roadmap_subscriptions
    async with ctx.db.write() as conn:
        have = await conn.execute(
            sa.select(rs.c.id).where(rs.c.community_id == community_id, rs.c.actor_id == actor_id)
        )
        if have.first():
            return False
        await conn.execute(
            rs.insert().values(
                community_id=community_id, actor_id=actor_id, uri=uri, created_at=clock.now()
            )
        )
    return True


async def unsubscribe(ctx: Context, actor_id: int, community_id: int) -> bool:
    """Stop following a community's whole roadmap; False when there was no such follow."""
    rs = t.roadmap_subscriptions
    async with ctx.db.write() as conn:
        res = await conn.execute(
            rs.delete().where(rs.c.community_id == community_id, rs.c.actor_id == actor_id)
        )
    return bool(res.rowcount)


async def remote_audience(conn: AsyncConnection, item_id: int) -> list[int]:
    """Remote actors who hear of this item: its followers, followers of the whole roadmap and the
    community's remote members, each only if they may see the item."""
    item = (
        await conn.execute(sa.select(t.roadmap_items).where(t.roadmap_items.c.id == item_id))
    ).first()
    if item is None:
        return []
    rs, f = t.roadmap_subscriptions, t.follows
    subscribers = sa.select(rs.c.actor_id).where(rs.c.community_id == item.community_id)
    members = (
        sa.select(f.c.follower_id)
        .join(t.communities, t.communities.c.actor_id == f.c.target_id)
        .where(t.communities.c.id == item.community_id, f.c.state == "accepted")
    )
    rows = await conn.execute(
        sa.select(t.actors.c.id).where(
            t.actors.c.domain.is_not(None),
            sa.or_(
                t.actors.c.id.in_(subscribers),
                t.actors.c.id.in_(members),
                t.actors.c.id.in_(
                    sa.select(t.roadmap_followers.c.actor_id).where(
                        t.roadmap_followers.c.item_id == item_id
                    )
                ),
            ),
        )
    )
    return [
        int(a)
        for (a,) in rows
        if await can_see_item(conn, await viewer_for_actor(conn, int(a)), item_id)
    ]


async def standings(
    conn: AsyncConnection, item_ids: list[int], actor_id: int | None
) -> dict[int, Standing]:
    """``standing`` of several items (callers checked visibility)."""
    return {item_id: await standing(conn, item_id, actor_id) for item_id in item_ids}
