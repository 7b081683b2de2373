"""Initiatives: any member proposes a project or event and becomes its informal lead.

An initiative is a roadmap item in status ``idea`` with a ``lead_actor_id``; its participants are
the item's supporters (``roadmap_social.support`` — "join the initiative"). The lead may change the
item's status like its author. Every read goes through ``visibility.items_visible_to``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.services import roadmap
from server.storage import schema as t
from server.visibility import Viewer, items_visible_to


@dataclass(frozen=True, slots=True)
class Initiative:
    """An initiative as the community page lists it."""

    item: roadmap.Item
    lead_username: str | None
    lead_name: str | None
    participants: int


async def start(
    ctx: Context,
    actor_id: int,
    community_id: int,
    *,
    title: str,
    description: str = "",
    audience: str = "public",
) -> int:
    """A member starts an initiative (a roadmap item in status ``idea``, led by them); returns the item id."""
    return await roadmap.create_item(
        ctx,
        actor_id,
        community_id,
        title=title,
        description=description,
        status="idea",
        audience=audience,
        lead=True,
    )


async def of_community(
    conn: AsyncConnection, viewer: Viewer, community_id: int
) -> list[Initiative]:
    """The initiatives of a community the viewer may see (not yet done or dropped), newest first."""
    ri = t.roadmap_items
    supports = (
        sa.select(sa.func.count(t.roadmap_supports.c.id))
        .where(t.roadmap_supports.c.item_id == ri.c.id)
        .scalar_subquery()
        .label("participants")
    )
    lead = t.actors.alias("lead")
    rows = await conn.execute(
        sa.select(
            ri,
            t.roles.c.name.label("owner_role_name"),
            lead.c.username.label("lead_username"),
            lead.c.display_name.label("lead_name"),
            supports,
        )
        .select_from(
            ri.outerjoin(t.roles, t.roles.c.id == ri.c.owner_role_id).join(
                lead, lead.c.id == ri.c.lead_actor_id
            )
        )
        .where(
            ri.c.community_id == community_id,
            ri.c.status.not_in(("done", "dropped")),
            items_visible_to(viewer),
        )
        .order_by(ri.c.created_at.desc(), ri.c.id.desc())
    )
    return [
        Initiative(
            item=roadmap.item_from_row(r),
            lead_username=r.lead_username,
            lead_name=r.lead_name or None,
            participants=int(r.participants),
        )
        for r in rows
    ]


async def lead_of(conn: AsyncConnection, item: roadmap.Item) -> sa.Row | None:
    """The lead of an initiative (``id``, ``username``, ``display_name``, ``uri``), or None for other items."""
    if item.lead_actor_id is None:
        return None
    a = t.actors
    return (
        await conn.execute(
            sa.select(a.c.id, a.c.username, a.c.display_name, a.c.uri).where(
                a.c.id == item.lead_actor_id
            )
        )
    ).first()


async def participants(conn: AsyncConnection, item_id: int, *, limit: int = 50) -> list[sa.Row]:
    """Who joined an initiative (its supporters), earliest first (callers checked the item is visible)."""
    rs = t.roadmap_supports
    return list(
        await conn.execute(
            sa.select(t.actors.c.id, t.actors.c.username, t.actors.c.display_name)
            .join(rs, rs.c.actor_id == t.actors.c.id)
            .where(rs.c.item_id == item_id)
            .order_by(rs.c.created_at)
            .limit(limit)
        )
    )
