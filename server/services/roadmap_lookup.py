"""Roadmap items and their Groups as federation names them: by id (``uri``), by the roadmap
collection a remote account follows, by the community a manager elsewhere moves one in.

``server/activitypub/roadmap/`` translates activities and asks here which rows they mean; what
happens to them (support, follow, status change) is ``roadmap_social``'s and ``roadmap``'s.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t
from server.visibility import ANONYMOUS, items_listed_for

ri = t.roadmap_items


async def item_uri(conn: AsyncConnection, item_id: int) -> str | None:
    """The stored ``uri`` of a roadmap item, or None."""
    return (await conn.execute(sa.select(ri.c.uri).where(ri.c.id == item_id))).scalar()


async def listed_item_ids(conn: AsyncConnection, community_id: int) -> list[int]:
    """The items of a community's roadmap anyone may see listed."""
    rows = await conn.execute(
        sa.select(ri.c.id).where(ri.c.community_id == community_id, items_listed_for(ANONYMOUS))
    )
    return [int(r[0]) for r in rows]


async def group_of_item(conn: AsyncConnection, item_id: int) -> sa.Row:
    """The Group actor of the community a roadmap item belongs to."""
    return (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .join(ri, ri.c.community_id == t.communities.c.id)
            .where(ri.c.id == item_id)
        )
    ).one()


async def local_item_by_uri(conn: AsyncConnection, uri: str) -> sa.Row | None:
    """(id, status) of a LOCAL community's roadmap item named by its id, or None."""
    return (
        await conn.execute(
            sa.select(ri.c.id, ri.c.status)
            .join(t.communities, t.communities.c.id == ri.c.community_id)
            .where(ri.c.uri == uri, t.communities.c.local.is_(True))
        )
    ).first()


async def item_of_community(
    conn: AsyncConnection, community_id: int, item_id: int
) -> sa.Row | None:
    """The ``roadmap_items`` row ``item_id`` when it belongs to ``community_id``, or None."""
    return (
        await conn.execute(
            sa.select(ri).where(ri.c.id == item_id, ri.c.community_id == community_id)
        )
    ).first()


async def remote_item_home(conn: AsyncConnection, item_id: int) -> sa.Row | None:
    """(uri, group_id, group_uri) of an item of a REMOTE community, or None."""
    return (
        await conn.execute(
            sa.select(
                ri.c.uri,
                t.actors.c.id.label("group_id"),
                t.actors.c.uri.label("group_uri"),
            )
            .join(t.communities, t.communities.c.id == ri.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(ri.c.id == item_id, t.actors.c.domain.is_not(None))
        )
    ).first()
