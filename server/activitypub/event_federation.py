"""Community events over ActivityPub, compatible with Mobilizon and FEP-8a8e.

Outgoing: a new event is a ``Create`` of an ``Event`` from the community's Group to its remote
members, a change (the edit form, ``PATCH /api/koers/v1/events/{id}``) an ``Update`` to them and
to remote participants; a remote participant's ``Join`` is answered with ``Accept`` (free
mode, or when a manager accepts) or ``Reject`` (full, declined). Incoming: ``Join`` / ``Leave`` (and
``Undo`` of a ``Join``) of a local event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json, wants_activitypub
from federation.errors import Ignore
from server import clock, urls
from server.activitypub import convert
from server.activitypub.documents import viewer_of
from server.activitypub.incoming_common import ctx_of, the_actor
from server.activitypub.recipients import remote_followers
from server.activitypub.vocab import context, first_id
from server.clock import iso
from server.context import Context
from server.errors import Conflict, Forbidden, NotFound
from server.events import Event as DomainEvent
from server.keys import CTX
from server.services import community_events
from server.storage import schema as t
from server.visibility import Audience, addressing, can_see_event

log = logging.getLogger(__name__)
FEDERATED = ("public", "unlisted", "community", "partners")
_EVENT_PATH = re.compile(r"^/c/(?P<handle>[^/]+)/events/(?P<id>\d+)$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _event_and_group(conn: AsyncConnection, event_id: int) -> tuple[sa.Row, sa.Row] | None:
    row = (await conn.execute(sa.select(t.events).where(t.events.c.id == event_id))).first()
    if row is None:
        return None
    group = (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == row.community_id, t.actors.c.domain.is_(None))
        )
    ).first()
    return None if group is None else (row, group)


async def event_object(conn: AsyncConnection, base: str, event_id: int) -> dict[str, Any] | None:
    """The ``Event`` document (Mobilizon / FEP-8a8e terms); None for unknown or local-only events."""
    found = await _event_and_group(conn, event_id)
    if found is None:
        return None
    row, group = found
    address = addressing(
        Audience(row.audience),
        followers_url=group.followers_url,
        community_uri=group.uri,
        partners_url=urls.partners_collection(base),
    )
    if address is None:
        return None
    organiser = None
    if row.organiser_id is not None:
        organiser = (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == row.organiser_id))
        ).scalar()
    joined = await community_events.joined_count(conn, event_id)
    doc: dict[str, Any] = {
        "@context": [
            *context(base),
            {
                "mz": "https://joinmobilizon.org/ns#",
                "sc": "http://schema.org#",
                "joinMode": "mz:joinMode",
                "isOnline": "mz:isOnline",
                "participantCount": "mz:participantCount",
                "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
                "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
            },
        ],
        "id": row.uri,
        "type": "Event",
        "name": row.title,
        "content": row.description_html,
        "startTime": iso(row.starts_at),
        "endTime": iso(row.ends_at) if row.ends_at else None,
        "attributedTo": group.uri,
        "actor": organiser or group.uri,
        "audience": group.uri,
        "to": address.to,
        "cc": address.cc,
        "url": row.uri,
        "published": iso(row.created_at),
        "updated": iso(row.updated_at),
        "joinMode": "free" if row.join_mode == "free" else "restricted",
        "participantCount": joined,
        "isOnline": bool(row.online_url) and not row.place_name,
    }
    if row.capacity is not None:
        doc["maximumAttendeeCapacity"] = row.capacity
        doc["remainingAttendeeCapacity"] = max(row.capacity - joined, 0)
    if row.place_name or row.place_address:
        doc["location"] = {
            "type": "Place",
            "name": row.place_name or row.place_address,
            "address": {"type": "PostalAddress", "streetAddress": row.place_address},
        }
    if row.online_url:
        doc["attachment"] = [
            {"type": "Link", "name": "Website", "href": row.online_url, "mediaType": "text/html"}
        ]
    return {k: v for k, v in doc.items() if v is not None}


def event_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """What Koers reads from a remote ``Event`` (Mobilizon, Gancio, Koers): title, times, place, mode."""
    location = loc if isinstance(loc := doc.get("location"), dict) else {}
    address = a if isinstance(a := location.get("address"), dict) else {}
    street = (
        ", ".join(
            str(address[k])
            for k in ("streetAddress", "postalCode", "addressLocality", "addressCountry")
            if address.get(k)
        )
        if address
        else (a if isinstance(a, str) else "")
    )
    capacity = doc.get("maximumAttendeeCapacity")
    return {
        "title": str(doc.get("name") or "")[:255],
        "starts_at": convert_time(doc.get("startTime")),
        "ends_at": convert_time(doc.get("endTime")),
        "place_name": str(location.get("name") or "")[:255],
        "place_address": street[:500],
        "online_url": doc.get("url") if doc.get("isOnline") else "",
        "capacity": capacity
        if isinstance(capacity, int) and not isinstance(capacity, bool) and 0 < capacity < 2**31
        else None,
        "join_mode": "free" if doc.get("joinMode", "free") == "free" else "approval",
    }


def convert_time(value: object) -> Any:
    from server.activitypub.ingest import parse_time

    return parse_time(value)


class EventOutbox:
    """Outgoing listeners for events (in-transaction: they only enqueue)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(self) -> None:
        on = self.ctx.events.on
        on("event.created", self.published)
        on("event.updated", self.published)
        on("event.rsvp", self.answered)
        on("event.decided", self.answered)

    async def published(self, conn: AsyncConnection, event: DomainEvent) -> None:
        """Create (or Update) of the Event from the Group to the community's remote members."""
        found = await _event_and_group(conn, event.data["event_id"])
        if found is None or found[0].audience not in FEDERATED:
            return
        row, group = found
        obj = await event_object(conn, self.ctx.base, row.id)
        if obj is None:
            return
        body = {k: v for k, v in obj.items() if k != "@context"}
        kind = "Create" if event.kind == "event.created" else "Update"
        stamp = "" if kind == "Create" else f"/{int(clock.now().timestamp() * 1000)}"
        doc = convert.activity(
            self.ctx.base,
            kind,
            id=f"{row.uri}#{kind.lower()}{stamp}",
            actor=group.uri,
            object=body,
            to=obj["to"],
            cc=obj["cc"],
            audience=group.uri,
        )
        people = await remote_followers(conn, group.id)
        if kind == "Update":  # participants from elsewhere hear of the change too, members or not
            people += await remote_participants(conn, row.id)
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, people)
        )

    async def answered(self, conn: AsyncConnection, event: DomainEvent) -> None:
        """Accept / Reject a remote participant's Join once their state is decided."""
        state = event.data["state"]
        if state == "pending":
            return
        await send_join_answer(
            conn,
            self.ctx.base,
            event.data["event_id"],
            event.data["actor_id"],
            "Accept" if state == "joined" else "Reject",
        )


async def remote_participants(conn: AsyncConnection, event_id: int) -> list[int]:
    """Remote actors who joined or asked to join the event."""
    ep = t.event_participants
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


async def send_join_answer(
    conn: AsyncConnection,
    base: str,
    event_id: int,
    actor_id: int,
    kind: str,
    join_uri: str | None = None,
) -> None:
    """Accept or Reject (by the Group) a remote actor's Join of a local event."""
    found = await _event_and_group(conn, event_id)
    actor = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).first()
    if found is None or actor is None or actor.domain is None:
        return
    row, group = found
    if join_uri is None:
        join_uri = (
            await conn.execute(
                sa.select(t.event_participants.c.uri).where(
                    t.event_participants.c.event_id == event_id,
                    t.event_participants.c.actor_id == actor_id,
                )
            )
        ).scalar()
    join = {
        "id": join_uri or f"{actor.uri}#join/{event_id}",
        "type": "Join",
        "actor": actor.uri,
        "object": row.uri,
    }
    doc = convert.activity(
        base,
        kind,
        id=f"{row.uri}#{kind.lower()}/{actor.id}/{int(clock.now().timestamp() * 1000)}",
        actor=group.uri,
        object=join,
        to=[actor.uri],
    )
    await enqueue(
        conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, [actor.id])
    )


async def _local_event(app: web.Application, uri: str | None) -> int:
    if not uri:
        raise Ignore("no_object", "the activity names no event")
    async with ctx_of(app).db.read() as conn:
        found = (await conn.execute(sa.select(t.events.c.id).where(t.events.c.uri == uri))).scalar()
    if found is None:
        raise Ignore("unknown_object", "not one of our events")
    return int(found)


async def on_join(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A remote actor asks for a place: joined (Accept), pending (managers decide) or full (Reject)."""
    actor_id = await the_actor(app, activity, signer_id)
    event_id = await _local_event(app, first_id(activity.get("object")))
    ctx = ctx_of(app)
    try:
        await community_events.rsvp(ctx, actor_id, event_id, join_uri=first_id(activity))
    except NotFound:
        raise Ignore("not_visible", "the actor may not see that event") from None
    except (Conflict, Forbidden) as exc:
        log.info("join of event %s by actor %s refused: %s", event_id, actor_id, exc.message)
        async with ctx.db.write() as conn:
            await send_join_answer(conn, ctx.base, event_id, actor_id, "Reject", first_id(activity))


async def leave_event(app: web.Application, actor_id: int, event_uri: str | None) -> None:
    """A remote participant leaves (``Leave``, or ``Undo`` of their ``Join``)."""
    event_id = await _local_event(app, event_uri)
    try:
        await community_events.leave(ctx_of(app), actor_id, event_id)
    except NotFound:
        raise Ignore("nothing_to_undo", "the actor does not take part in that event") from None


async def on_leave(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Leave`` of a local event."""
    actor_id = await the_actor(app, activity, signer_id)
    await leave_event(app, actor_id, first_id(activity.get("object")))


@web.middleware
async def negotiate_events(request: web.Request, handler: Handler) -> web.StreamResponse:
    """ActivityStreams clients get the ``Event`` at the event page's path (if they may see it)."""
    match = _EVENT_PATH.match(request.path)
    if request.method != "GET" or not match or not wants_activitypub(request):
        return await handler(request)
    ctx = request.app[CTX]
    event_id = int(match["id"])
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        uri = (
            await conn.execute(sa.select(t.events.c.uri).where(t.events.c.id == event_id))
        ).scalar()
        doc = None
        if uri == f"{ctx.base}{request.path}" and await can_see_event(conn, viewer, event_id):
            doc = await event_object(conn, ctx.base, event_id)
    if doc is None:
        raise web.HTTPNotFound()
    return activity_json(doc)
