"""Events of remote communities, and our members' RSVPs to them.

A ``Create`` / ``Update`` of an ``Event`` from a Group we know (a community on another instance;
Koers and Mobilizon both send these) is kept as a row in ``events`` next to the post the ordinary
handler stores. A local member's RSVP to such an event is a ``Join`` sent to the Group (their state
stays ``pending`` until its ``Accept``; a ``Reject`` marks it rejected); leaving sends ``Leave``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server.activitypub.core import convert
from server.activitypub.core.common import actor_row, ctx_of, fetch_object, the_actor
from server.activitypub.core.vocab import PUBLIC, first_id, ids, same_origin
from server.activitypub.events.activities import event_fields
from server.activitypub.posts import inbound as incoming_posts
from server.context import Context
from server.errors import Forbidden
from server.events import Event as DomainEvent
from server.services import community_events, event_lookup

log = logging.getLogger(__name__)


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
    sender = await actor_row(conn, sender_id)
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
    return await community_events.keep_remote_event(
        conn,
        sender,
        doc["id"],
        {**fields, "online_url": fields["online_url"] or "", "audience": _audience(doc)},
    )


async def _keep_event(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    actor_id = await the_actor(app, activity, signer_id)
    inner = activity.get("object")
    doc = await fetch_object(app, inner, trusted_actor=first_id(activity.get("actor")))
    async with ctx_of(app).db.write() as conn:
        await store_remote_event(conn, doc, actor_id)


async def on_create(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Create`` of an ``Event``: kept as an event row of the remote community, and as a post."""
    await _keep_event(app, activity, signer_id)
    await incoming_posts.on_create(app, activity, signer_id)


async def on_update(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Update`` of an ``Event``: its event row is refreshed, and its post edited."""
    await _keep_event(app, activity, signer_id)
    await incoming_posts.on_update_post(app, activity, signer_id)


async def join_answered(conn: AsyncConnection, activity: dict[str, Any]) -> Row | None:
    """Our member's participation an ``Accept`` / ``Reject`` answers (by the ``Join``'s id)."""
    return await community_events.participation_by_uri(conn, first_id(activity.get("object")))


async def _answered(
    app: web.Application, activity: dict[str, Any], signer_id: int, state: str
) -> None:
    async with ctx_of(app).db.read() as conn:
        row = await join_answered(conn, activity)
    if row is None:
        raise Ignore("unknown_join", "no Join of ours matches this answer")
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        try:
            await community_events.settle_remote_join(conn, row, actor_id, state)
        except Forbidden as exc:
            raise Ignore("actor_mismatch", exc.message) from None


async def on_join_accepted(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """The Group accepted our member's ``Join`` of its event."""
    await _answered(app, activity, signer_id, "joined")


async def on_join_rejected(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """The Group refused our member's ``Join`` of its event."""
    await _answered(app, activity, signer_id, "rejected")


class RemoteRsvpOutbox:
    """Outgoing Join / Leave of local members to remote events (in-transaction: enqueue only)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def _send(self, conn: AsyncConnection, event: DomainEvent, kind: str) -> None:
        found = await event_lookup.remote_event_home(conn, event.data["event_id"])
        actor = await actor_row(conn, event.data["actor_id"])
        if found is None or actor.domain is not None:
            return
        stamp = int(clock.now().timestamp() * 1000)
        activity_id = f"{actor.uri}#{kind.lower()}s/{event.data['event_id']}/{stamp}"
        if kind == "Join":
            await community_events.remember_join(
                conn, event.data["event_id"], actor.id, activity_id
            )
        doc = convert.activity(
            self.ctx.base, kind, id=activity_id, actor=actor.uri, object=found.uri
        )
        await enqueue(
            conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [found.group_id])
        )

    async def joined(self, conn: AsyncConnection, event: DomainEvent) -> None:
        """Our member's RSVP to a remote event: ``Join`` to its Group."""
        await self._send(conn, event, "Join")

    async def left(self, conn: AsyncConnection, event: DomainEvent) -> None:
        """Our member leaves a remote event: ``Leave`` to its Group."""
        await self._send(conn, event, "Leave")


async def is_remote(conn: AsyncConnection, event_id: int) -> bool:
    """Does the event belong to a community on another instance?"""
    return await event_lookup.remote_event_home(conn, event_id) is not None
