"""Events of remote communities, and our members' RSVPs to them.

A ``Create`` / ``Update`` of an ``Event`` from a Group we know (a community on another instance;
Koers and Mobilizon both send these) is kept as a row in ``events`` next to the post the ordinary
handler stores. A local member's RSVP to such an event is a ``Join`` sent to the Group (their state
stays ``pending`` until its ``Accept``; a ``Reject`` marks it rejected); leaving sends ``Leave``.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server.activitypub import convert
from server.activitypub.event_federation import event_fields
from server.activitypub.incoming_common import (
    ctx_of,
    ensure_remote_community,
    fetch_object,
    the_actor,
)
from server.activitypub.vocab import PUBLIC, first_id, ids, same_origin, type_of
from server.context import Context
from server.events import Event as DomainEvent
from server.storage import schema as t
from server.storage.rows import inserted_id

log = logging.getLogger(__name__)
Handler = Any


def _audience(doc: dict[str, Any]) -> str:
    if PUBLIC in ids(doc.get("to")):
        return "public"
    if PUBLIC in ids(doc.get("cc")):
        return "unlisted"
    return "community"


async def store_remote_event(
    conn: AsyncConnection, doc: dict[str, Any], sender_id: int
) -> int | None:
    """Insert or refresh the event row of a remote ``Event`` sent by (or for) a known Group."""
    sender = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == sender_id))).one()
    named = {first_id(doc.get("audience")), *ids(doc.get("attributedTo"))}
    if sender.kind != "group" or sender.domain is None or sender.uri not in named:
        return None
    fields = event_fields(doc)
    if (
        not fields["title"]
        or fields["starts_at"] is None
        or not same_origin(doc.get("id"), sender.uri)
    ):
        return None
    community_id = await ensure_remote_community(conn, sender)
    now = clock.now()
    values = {
        **fields,
        "online_url": fields["online_url"] or "",
        "audience": _audience(doc),
        "description_html": "",
        "community_id": community_id,
        "updated_at": now,
    }
    found = (
        await conn.execute(sa.select(t.events.c.id).where(t.events.c.uri == doc["id"]))
    ).scalar()
    if found is not None:
        await conn.execute(t.events.update().where(t.events.c.id == found).values(**values))
        return int(found)
    res = await conn.execute(t.events.insert().values(uri=doc["id"], created_at=now, **values))
    return inserted_id(res)


def wrap_create(previous: Handler) -> Handler:
    """Create/Update handler: keep a remote community's Event as an event row, then store the post."""

    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        inner = activity.get("object")
        if type_of(inner) == "Event":
            actor_id = await the_actor(app, activity, signer_id)
            doc = await fetch_object(app, inner, trusted_actor=first_id(activity.get("actor")))
            async with ctx_of(app).db.write() as conn:
                await store_remote_event(conn, doc, actor_id)
        return await previous(app, activity, signer_id)

    return handle


def wrap_answer(previous: Handler, kind: str) -> Handler:
    """Accept/Reject handler: an answer to one of our members' Joins, else the previous handler."""

    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        join_id = first_id(activity.get("object"))
        async with ctx_of(app).db.read() as conn:
            row = (
                (
                    await conn.execute(
                        sa.select(t.event_participants).where(t.event_participants.c.uri == join_id)
                    )
                ).first()
                if join_id
                else None
            )
        if row is None:
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        async with ctx_of(app).db.write() as conn:
            group = (
                await conn.execute(
                    sa.select(t.communities.c.actor_id)
                    .join(t.events, t.events.c.community_id == t.communities.c.id)
                    .where(t.events.c.id == row.event_id)
                )
            ).scalar()
            if group != actor_id:
                raise Ignore("actor_mismatch", "only the event's community answers a Join")
            state = "joined" if kind == "Accept" else "rejected"
            await conn.execute(
                t.event_participants.update()
                .where(t.event_participants.c.id == row.id)
                .values(state=state)
            )

    return handle


async def _remote_event(conn: AsyncConnection, event_id: int) -> sa.Row | None:
    """(the event's ``uri``, its remote Group's ``group_id``) when the event belongs to a community
    on another instance."""
    found = (
        await conn.execute(
            sa.select(t.events.c.uri, t.actors.c.id.label("group_id"))
            .join(t.communities, t.communities.c.id == t.events.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.events.c.id == event_id, t.actors.c.domain.is_not(None))
        )
    ).first()
    return found


class RemoteRsvpOutbox:
    """Outgoing Join / Leave of local members to remote events (in-transaction: enqueue only)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(self) -> None:
        self.ctx.events.on("event.rsvp", self.joined)
        self.ctx.events.on("event.left", self.left)

    async def _send(self, conn: AsyncConnection, event: DomainEvent, kind: str) -> None:
        found = await _remote_event(conn, event.data["event_id"])
        actor = (
            await conn.execute(sa.select(t.actors).where(t.actors.c.id == event.data["actor_id"]))
        ).one()
        if found is None or actor.domain is not None:
            return
        stamp = int(clock.now().timestamp() * 1000)
        activity_id = f"{actor.uri}#{kind.lower()}s/{event.data['event_id']}/{stamp}"
        if kind == "Join":
            await conn.execute(
                t.event_participants.update()
                .where(
                    t.event_participants.c.event_id == event.data["event_id"],
                    t.event_participants.c.actor_id == actor.id,
                )
                .values(uri=activity_id)
            )
        doc = convert.activity(
            self.ctx.base, kind, id=activity_id, actor=actor.uri, object=found.uri
        )
        await enqueue(
            conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [found.group_id])
        )

    async def joined(self, conn: AsyncConnection, event: DomainEvent) -> None:
        await self._send(conn, event, "Join")

    async def left(self, conn: AsyncConnection, event: DomainEvent) -> None:
        await self._send(conn, event, "Leave")


async def is_remote(conn: AsyncConnection, event_id: int) -> bool:
    """Does the event belong to a community on another instance?"""
    return await _remote_event(conn, event_id) is not None
