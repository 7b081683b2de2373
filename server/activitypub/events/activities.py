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

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json, wants_activitypub
from federation.errors import Ignore
from server import clock, urls
from server import event_kinds as kinds
from server.activitypub.communities.answers import send_join_answer as send_answer
from server.activitypub.core import convert
from server.activitypub.core.common import ctx_of, the_actor
from server.activitypub.core.documents import viewer_of
from server.activitypub.core.ingest import parse_time
from server.activitypub.core.recipients import remote_followers
from server.activitypub.core.vocab import context, first_id
from server.clock import iso
from server.context import Context
from server.errors import Conflict, Forbidden, NotFound
from server.events import Event as DomainEvent
from server.keys import CTX
from server.services import community_documents, community_events, event_lookup
from server.visibility import Audience, addressing, can_see_event

log = logging.getLogger(__name__)
FEDERATED = ("public", "unlisted", "community", "partners")
_EVENT_PATH = re.compile(r"^/c/(?P<handle>[^/]+)/events/(?P<id>\d+)$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _event_and_group(conn: AsyncConnection, event_id: int) -> tuple[Row, Row] | None:
    row = await event_lookup.event_row(conn, event_id)
    if row is None:
        return None
    group = await community_documents.local_group(conn, row.community_id)
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
    organiser = await community_documents.actor_uri(conn, row.organiser_id)
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
        "starts_at": parse_time(doc.get("startTime")),
        "ends_at": parse_time(doc.get("endTime")),
        "place_name": str(location.get("name") or "")[:255],
        "place_address": street[:500],
        "online_url": doc.get("url") if doc.get("isOnline") else "",
        "capacity": capacity
        if isinstance(capacity, int) and not isinstance(capacity, bool) and 0 < capacity < 2**31
        else None,
        "join_mode": "free" if doc.get("joinMode", "free") == "free" else "approval",
    }


class EventOutbox:
    """Outgoing listeners for events (in-transaction: they only enqueue)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

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
        kind = "Create" if event.kind == kinds.EVENT_CREATED else "Update"
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
            people += await event_lookup.remote_participants(conn, row.id)
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
    actor = await community_documents.actor(conn, actor_id)
    if found is None or actor is None or actor.domain is None:
        return
    row, group = found
    if join_uri is None:
        join_uri = await event_lookup.join_uri(conn, event_id, actor_id)
    await send_answer(
        conn,
        base,
        group=group,
        actor=actor,
        kind=kind,
        answer_id=f"{row.uri}#{kind.lower()}/{actor.id}/{int(clock.now().timestamp() * 1000)}",
        join_id=join_uri or f"{actor.uri}#join/{event_id}",
        joined=row.uri,
    )


async def _local_event(app: web.Application, uri: str | None) -> int:
    if not uri:
        raise Ignore("no_object", "the activity names no event")
    async with ctx_of(app).db.read() as conn:
        found = await event_lookup.event_id_by_uri(conn, uri)
    if found is None:
        raise Ignore("unknown_object", "not one of our events")
    return found


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


async def on_undo_join(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Undo`` of a ``Join`` of a local event: the participant leaves."""
    inner = activity.get("object")
    actor_id = await the_actor(app, activity, signer_id)
    target = first_id(inner.get("object")) if isinstance(inner, dict) else None
    await leave_event(app, actor_id, target)


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
        uri = await event_lookup.event_uri(conn, event_id)
        doc = None
        if uri == f"{ctx.base}{request.path}" and await can_see_event(conn, viewer, event_id):
            doc = await event_object(conn, ctx.base, event_id)
    if doc is None:
        raise web.HTTPNotFound()
    return activity_json(doc)
