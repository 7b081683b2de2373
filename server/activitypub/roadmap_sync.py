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
from typing import Any, TypeGuard
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server.activitypub import convert, remote_sync
from server.activitypub.incoming_common import (
    actor_by_uri,
    actor_row,
    ctx_of,
    ensure_remote_community,
    the_actor,
)
from server.activitypub.remote_sync import SyncTarget, collection_items, fetch_as
from server.activitypub.vocab import first_id, koers, same_origin, type_of
from server.context import Context
from server.events import Event
from server.services import notifications, remote_communities, roadmap, text
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Audience, audience_from_addressing

log = logging.getLogger(__name__)
Handler = Any
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


def _audience(doc: dict[str, Any], group: sa.Row) -> str | None:
    parts = urlsplit(group.uri)
    partners = f"{parts.scheme}://{parts.netloc}/partners"
    audience, _ = audience_from_addressing(
        doc,
        followers_url=group.followers_url,
        community_uris=[group.uri],
        partner_collections=[partners],
    )
    return KEPT.get(audience)


async def store_item(
    conn: AsyncConnection, doc: dict[str, Any], group: sa.Row, *, notify: bool = True
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
    community_id = await ensure_remote_community(conn, group)
    version = koers(doc, "purposeVersion")
    lead = await actor_by_uri(conn, first_id(koers(doc, "lead")))
    content = doc.get("content")
    status = koers(doc, "status")
    now = clock.now()
    values = {
        "title": title.strip()[: roadmap.MAX_TITLE],
        "status": status,
        "audience": audience,
        "description_html": text.sanitise_html(content) if isinstance(content, str) else "",
        "purpose_version": version
        if isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= INT_MAX
        else None,
        "lead_actor_id": lead.id if lead is not None else None,
        "supports_reported": _count(doc.get("likes")),
        "updated_at": now,
    }
    ri = t.roadmap_items
    found = (
        await conn.execute(
            sa.select(ri.c.id, ri.c.status, ri.c.community_id).where(ri.c.uri == uri)
        )
    ).first()
    if found is not None and found.community_id != community_id:
        return None  # an id another community already uses
    if found is None:
        res = await conn.execute(
            ri.insert().values(uri=uri, community_id=community_id, created_at=now, **values)
        )
        item_id = inserted_id(res)
        await conn.execute(
            t.roadmap_status_changes.insert().values(
                item_id=item_id,
                from_status=None,
                to_status=status,
                actor_id=None,
                note="",
                created_at=now,
            )
        )
        return item_id
    item_id = int(found.id)
    await conn.execute(ri.update().where(ri.c.id == item_id).values(**values))
    if found.status != status:
        await conn.execute(
            t.roadmap_status_changes.insert().values(
                item_id=item_id,
                from_status=found.status,
                to_status=status,
                actor_id=None,
                note="",
                created_at=now,
            )
        )
        if notify:
            await _notify_followers(conn, item_id, group, community_id, values["title"], status)
    return item_id


async def _notify_followers(
    conn: AsyncConnection, item_id: int, group: sa.Row, community_id: int, title: str, status: str
) -> None:
    """Tell our members who follow the item about its new status (with a line and a link to show)."""
    page = f"{remote_communities.page_path(group.username, group.domain)}/roadmap#item-{item_id}"
    extra = {
        "item_id": item_id,
        "status": status,
        "title": title,
        "link": page,
        "text": f"“{title}” is now {roadmap.STATUS_LABELS[status].lower()}",
    }
    followers = await conn.execute(
        sa.select(t.roadmap_followers.c.actor_id).where(t.roadmap_followers.c.item_id == item_id)
    )
    for (follower,) in followers:
        await notifications.notify(
            conn,
            int(follower),
            "koers.roadmap_status",
            from_actor_id=group.id,
            community_id=community_id,
            extra=extra,
        )


@remote_sync.register
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


def wrap_incoming(previous: Handler) -> Handler:
    """Create/Update/Add handler: a roadmap item sent by a remote Group, else the previous handler."""

    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        inner = activity.get("object")
        if not is_item(inner):
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        async with ctx_of(app).db.write() as conn:
            group = await actor_row(conn, actor_id)
            if group.kind != "group" or group.domain is None:
                raise Ignore("not_a_group", "only a community publishes its roadmap items")
            if await store_item(conn, inner, group) is None:
                raise Ignore("bad_item", "a roadmap item we cannot keep")

    return handle


def wrap_accept(previous: Handler) -> Handler:
    """Accept handler: a Group confirming one of our members' follows of a roadmap item (or of its
    roadmap) is not an answer to a membership request, so it must not reach the follow handler
    (which would match the member's follow of the Group itself)."""

    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        inner = activity.get("object")
        target = (
            first_id(inner.get("object"))
            if isinstance(inner, dict) and type_of(inner) == "Follow"
            else None
        )
        if target is None or target == first_id(activity.get("actor")):
            return await previous(app, activity, signer_id)
        async with ctx_of(app).db.read() as conn:
            item = (
                await conn.execute(
                    sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.uri == target)
                )
            ).scalar()
        if item is None and target != f"{first_id(activity.get('actor'))}/roadmap":
            return await previous(app, activity, signer_id)
        await the_actor(app, activity, signer_id)
        log.info("follow of %s confirmed by %s", target, first_id(activity.get("actor")))

    return handle


class RemoteRoadmapOutbox:
    """Our members' supports and follows of remote items, sent to the item's Group (in-transaction)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(self) -> None:
        """Listen to the roadmap_social events."""
        for kind, table, undo in (
            ("supported", t.roadmap_supports, False),
            ("unsupported", t.roadmap_supports, True),
            ("followed", t.roadmap_followers, False),
            ("unfollowed", t.roadmap_followers, True),
        ):
            self.ctx.events.on(f"roadmap.{kind}", self._listener(table, undo))

    def _listener(self, table: sa.Table, undo: bool) -> Any:
        async def listener(conn: AsyncConnection, event: Event) -> None:
            await self._send(conn, event, table, undo)

        return listener

    async def _send(self, conn: AsyncConnection, event: Event, table: sa.Table, undo: bool) -> None:
        item_id, actor_id = event.data["item_id"], event.data["actor_id"]
        found = (
            await conn.execute(
                sa.select(
                    t.roadmap_items.c.uri,
                    t.actors.c.id.label("group_id"),
                    t.actors.c.uri.label("group_uri"),
                )
                .join(t.communities, t.communities.c.id == t.roadmap_items.c.community_id)
                .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
                .where(t.roadmap_items.c.id == item_id, t.actors.c.domain.is_not(None))
            )
        ).first()
        actor = await actor_row(conn, actor_id)
        if found is None or found.uri is None or actor.domain is not None:
            return
        kind = "Like" if table is t.roadmap_supports else "Follow"
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
            await conn.execute(
                table.update()
                .where(table.c.item_id == item_id, table.c.actor_id == actor_id)
                .values(uri=doc["id"])
            )
        if kind == "Like":  # counted at home; until its next report, count ours at once
            step = -1 if undo else 1
            reported = t.roadmap_items.c.supports_reported
            await conn.execute(
                t.roadmap_items.update()
                .where(t.roadmap_items.c.id == item_id, reported + step >= 0)
                .values(supports_reported=reported + step)
            )
        await enqueue(
            conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [found.group_id])
        )


def install(app: web.Application, handlers: Any) -> None:
    """Wrap Create/Update/Add for remote roadmap items and send our members' supports and follows."""
    for name in ("Create", "Update", "Add"):
        handlers.register(name, wrap_incoming(handlers.get(name)))
    handlers.register("Accept", wrap_accept(handlers.get("Accept")))
    RemoteRoadmapOutbox(ctx_of(app)).register()
