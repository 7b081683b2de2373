"""A community's settings, changed by its managers: name, description, openness, who sees the
member list, and whether outsiders' posts become ideas.

The Group actor changes with them (name, summary, ``manuallyApprovesFollowers``), so an
``actor.updated`` event makes federation send an ``Update`` of the Group to its remote members.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import event_kinds as kinds
from server.context import Context
from server.services import communities, text
from server.storage import schema as t

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """What the settings page edits."""

    name: str
    description: str
    openness: str
    member_list_visibility: str
    accept_outside_ideas: bool


async def current(conn: AsyncConnection, community_id: int) -> Settings:
    """The community's settings as they are now (its description in its source form)."""
    row = (
        await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
    ).one()
    return Settings(
        name=row.name,
        description=row.description_source or "",
        openness=row.openness,
        member_list_visibility=row.member_list_visibility,
        accept_outside_ideas=bool(row.accept_outside_ideas),
    )


async def update(ctx: Context, manager_id: int, community_id: int, new: Settings) -> None:
    """Save the settings (managers only; ValidationError names the wrong field, nothing written)."""
    async with ctx.db.write() as conn:
        community = await communities.get(conn, community_id)
        await communities.require_manager(conn, community_id, manager_id)
        communities.check_fields(
            community.handle, new.name, new.description, new.openness, new.member_list_visibility
        )
        description_html = text.render(new.description).html if new.description.strip() else ""
        await conn.execute(
            t.communities.update()
            .where(t.communities.c.id == community_id)
            .values(
                name=new.name.strip(),
                description_source=new.description,
                description_html=description_html,
                openness=new.openness,
                member_list_visibility=new.member_list_visibility,
                accept_outside_ideas=new.accept_outside_ideas,
            )
        )
        await conn.execute(
            t.actors.update()
            .where(t.actors.c.id == community.actor_id)
            .values(
                display_name=new.name.strip(),
                summary_html=description_html,
                manually_approves_followers=new.openness != "open",
            )
        )
        events = [
            await ctx.events.emit(
                conn, kinds.COMMUNITY_UPDATED, community_id=community_id, by_actor_id=manager_id
            ),
            await ctx.events.emit(conn, kinds.ACTOR_UPDATED, actor_id=community.actor_id),
        ]
    await ctx.events.committed(*events)
    log.info("community %s settings changed by actor %s", community.handle, manager_id)
