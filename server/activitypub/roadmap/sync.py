"""The roadmap of a community hosted on another instance, as this instance keeps it.

Each item the Group publishes (an ``Article`` with ``koers:status``) is a ``roadmap_items`` row of
our ``communities`` row for it, keyed by the item's id (``uri``), with the audience its addressing
gives (``visibility.audience_from_addressing``) and the support count the Group reports
(``likes.totalItems``). Rows come from three places:

- ``sync_roadmap``: a ``remote_sync`` syncer that reads the Group's ``koers:roadmap`` collection
  signed as one of our members (after a join, or when asked);
- a ``Create`` / ``Update`` / ``Add`` of an item sent by the Group (a new item, a status change);
  a status change is recorded in ``roadmap_status_changes`` and our members who follow the item
  are notified (``koers.roadmap_status``);
- nothing else: items of a remote roadmap are never written here by our members.

Our members' supports and follows of such an item are rows here too (the same
``roadmap_social`` service as local items); ``RemoteRoadmapOutbox`` sends them to the Group as
``Like`` / ``Follow`` (and their ``Undo``).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server.activitypub.core import convert
from server.activitypub.core.common import actor_by_uri, actor_row, ctx_of, the_actor
from server.activitypub.core.remote_sync import SyncTarget, collection_items, fetch_as
from server.activitypub.core.vocab import first_id, koers, same_origin, type_of
from server.context import Context
from server.errors import ValidationError
from server.events import Event
from server.services import remote_roadmap, roadmap, roadmap_lookup, text
from server.visibility import Audience, audience_from_addressing

log = logging.getLogger(__name__)
MAX_ITEMS = 500
INT_MAX = 2_147_483_647  # INTEGER columns on PostgreSQL
# What a remote item's addressing may give, and what we keep: the Group's followers are its members.
KEPT = {
    Audience.PUBLIC: "public",
    Audience.UNLISTED: "unlisted",
    Audience.COMMUNITY: "community",
    Audience.FOLLOWERS: "community",
    Audience.PARTNERS: "partners",
}


def is_item(doc: Any) -> TypeGuard[dict[str, Any]]:
    """Does this document look like a Koers roadmap item?"""
    return (
        isinstance(doc, dict)
        and type_of(doc) in ("Article", "Page")
        and koers(doc, "status") in roadmap.STATUSES
    )


def _count(value: Any) -> int | None:
    total = value.get("totalItems") if isinstance(value, dict) else None
    return (
        total
        if isinstance(total, int) and not isinstance(total, bool) and 0 <= total <= INT_MAX
        else None
    )


def _audience(doc: dict[str, Any], group: Row) -> str | None:
    parts = urlsplit(group.uri)
    partners = f"{parts.scheme}://{parts.netloc}/partners"
    audience, _ = audience_from_addressing(
        doc,
        followers_url=group.followers_url,
        community_uris=[group.uri],
        partner_collections=[partners],
    )
    return KEPT.get(audience)


def _target_date(value: Any) -> date | None:
    """An item's ``koers:targetDate`` (an ISO date), None when absent or not a date we accept."""
    if not isinstance(value, str) or len(value) > 32:
        return None
    try:
        return roadmap.parse_target(value[:10])
    except ValidationError:
        return None


async def store_item(
    conn: AsyncConnection, doc: dict[str, Any], group: Row, *, notify: bool = True
) -> int | None:
    """Insert or refresh our row of a remote item published by ``group``; None when not acceptable.

    A changed status is recorded and, with ``notify``, our members who follow the item are told.
    """
    uri = doc.get("id")
    title = doc.get("name")
    if not is_item(doc) or not isinstance(uri, str) or not same_origin(uri, group.uri):
        return None
    if not isinstance(title, str) or not title.strip():
        return None
    audience = _audience(doc, group)
    if audience is None:
        return None
    version = koers(doc, "purposeVersion")
    lead = await actor_by_uri(conn, first_id(koers(doc, "lead")))
    content = doc.get("content")
    fields = {
        "title": title.strip()[: roadmap.MAX_TITLE],
        "status": koers(doc, "status"),
        "audience": audience,
        "description_html": text.sanitise_html(content) if isinstance(content, str) else "",
        "purpose_version": version
        if isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= INT_MAX
        else None,
        "lead_actor_id": lead.id if lead is not None else None,
        "supports_reported": _count(doc.get("likes")),
        "target_date": _target_date(koers(doc, "targetDate")),
    }
    return await remote_roadmap.keep_item(conn, group, uri, fields, notify=notify)


async def sync_roadmap(app: web.Application, target: SyncTarget) -> None:
    """Syncer: the items of the Group's ``koers:roadmap`` collection our members may see."""
    collection = await fetch_as(app, koers(target.group, "roadmap"), target.signers)
    docs = []
    for entry in collection_items(collection)[:MAX_ITEMS]:
        doc = entry if isinstance(entry, dict) else await fetch_as(app, entry, target.signers)
        if is_item(doc):
            docs.append(doc)
    async with ctx_of(app).db.write() as conn:
        group = await actor_row(conn, target.group_actor_id)
        stored = [await store_item(conn, doc, group, notify=False) for doc in docs]
    log.info(
        "roadmap of %s: %d of %d items stored", group.uri, sum(1 for s in stored if s), len(docs)
    )


async def on_remote_item(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Create`` / ``Update`` / ``Add`` of a roadmap item sent by the remote Group that publishes it."""
    inner = activity.get("object")
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        group = await actor_row(conn, actor_id)
        if group.kind != "group" or group.domain is None:
            raise Ignore("not_a_group", "only a community publishes its roadmap items")
        if await store_item(conn, inner, group) is None:  # type: ignore[arg-type]
            raise Ignore("bad_item", "a roadmap item we cannot keep")


def followed_target(activity: dict[str, Any]) -> str | None:
    """The object of the ``Follow`` an ``Accept`` answers, unless it is the accepting actor itself."""
    inner = activity.get("object")
    target = (
        first_id(inner.get("object"))
        if isinstance(inner, dict) and type_of(inner) == "Follow"
        else None
    )
    return None if target == first_id(activity.get("actor")) else target


async def on_follow_accepted(
    app: web.Application, activity: dict[str, Any], signer_id: int
) -> None:
    """A Group confirms one of our members' follows of a roadmap item (or of its roadmap).

    Not an answer to a membership request, so it never reaches the follow handler (which would
    match the member's follow of the Group itself).
    """
    await the_actor(app, activity, signer_id)
    log.info(
        "follow of %s confirmed by %s", followed_target(activity), first_id(activity.get("actor"))
    )


class RemoteRoadmapOutbox:
    """Our members' supports and follows of remote items, sent to the item's Group (in-transaction)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def supported(self, conn: AsyncConnection, event: Event) -> None:
        """Our member supports a remote item: ``Like`` to its Group."""
        await self._send(conn, event, "Like", False)

    async def unsupported(self, conn: AsyncConnection, event: Event) -> None:
        """``Undo`` of that ``Like``."""
        await self._send(conn, event, "Like", True)

    async def followed(self, conn: AsyncConnection, event: Event) -> None:
        """Our member follows a remote item: ``Follow`` to its Group."""
        await self._send(conn, event, "Follow", False)

    async def unfollowed(self, conn: AsyncConnection, event: Event) -> None:
        """``Undo`` of that ``Follow``."""
        await self._send(conn, event, "Follow", True)

    async def _send(self, conn: AsyncConnection, event: Event, kind: str, undo: bool) -> None:
        item_id, actor_id = event.data["item_id"], event.data["actor_id"]
        found = await roadmap_lookup.remote_item_home(conn, item_id)
        actor = await actor_row(conn, actor_id)
        if found is None or found.uri is None or actor.domain is not None:
            return
        stamp = int(clock.now().timestamp() * 1000)
        doc = convert.activity(
            self.ctx.base,
            kind,
            id=f"{actor.uri}#{kind.lower()}s/roadmap/{item_id}/{stamp}",
            actor=actor.uri,
            object=found.uri,
            to=[found.group_uri],
        )
        if undo:
            doc = convert.undo(
                self.ctx.base, activity_id=f"{doc['id']}/undo", actor=actor.uri, inner=doc
            )
        else:
            await remote_roadmap.remember_sent(
                conn, item_id, actor_id, doc["id"], support=kind == "Like"
            )
        if kind == "Like":
            await remote_roadmap.count_support(conn, item_id, -1 if undo else 1)
        await enqueue(
            conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [found.group_id])
        )
