"""Community events as federation names them: the event row, its id, its remote participants,
a participant's ``Join`` id, and the Group of a remote community's event.

``server/activitypub/events/`` shapes these into ``Event`` documents and activities; RSVPs and
their rules are ``community_events``'.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t

ev = t.events
ep = t.event_participants


async def event_row(conn: AsyncConnection, event_id: int) -> sa.Row | None:
    """The ``events`` row, or None."""
    return (await conn.execute(sa.select(ev).where(ev.c.id == event_id))).first()


async def event_uri(conn: AsyncConnection, event_id: int) -> str | None:
    """The ActivityPub id of an event, or None."""
    return (await conn.execute(sa.select(ev.c.uri).where(ev.c.id == event_id))).scalar()


async def event_id_by_uri(conn: AsyncConnection, uri: str) -> int | None:
    """The event whose id is ``uri``, or None."""
    found = (await conn.execute(sa.select(ev.c.id).where(ev.c.uri == uri))).scalar()
    return None if found is None else int(found)


async def remote_participants(conn: AsyncConnection, event_id: int) -> list[int]:
    """Remote actors who joined or asked to join the event."""
    rows = await conn.execute(
        sa.select(ep.c.actor_id)
        .join(t.actors, t.actors.c.id == ep.c.actor_id)
        .where(
            ep.c.event_id == event_id,
            ep.c.state.in_(("joined", "pending")),
            t.actors.c.domain.is_not(None),
        )
    )
    return [int(r[0]) for r in rows]


async def join_uri(conn: AsyncConnection, event_id: int, actor_id: int) -> str | None:
    """The id of the ``Join`` by which ``actor_id`` asked for a place, if it came with one."""
    return (
        await conn.execute(
            sa.select(ep.c.uri).where(ep.c.event_id == event_id, ep.c.actor_id == actor_id)
        )
    ).scalar()


async def remote_event_home(conn: AsyncConnection, event_id: int) -> sa.Row | None:
    """(the event's ``uri``, its remote Group's ``group_id``) when the event belongs to a community
    on another instance."""
    return (
        await conn.execute(
            sa.select(ev.c.uri, t.actors.c.id.label("group_id"))
            .join(t.communities, t.communities.c.id == ev.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(ev.c.id == event_id, t.actors.c.domain.is_not(None))
        )
    ).first()
