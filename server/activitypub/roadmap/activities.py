"""Open roadmaps over ActivityPub: any fediverse account follows a roadmap item (or the whole
roadmap collection) and receives an ``Update`` of the item at each status change; a ``Like`` of an
item is a support.

The inbound routing table (``inbound.py``) sends ``Follow``, ``Like`` and ``Undo`` of a roadmap item
or of a roadmap collection here; ``RoadmapOutbox`` is in the outbound table.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json
from federation.errors import Ignore
from server import clock
from server.activitypub.communities.objects import roadmap_object
from server.activitypub.core import convert
from server.activitypub.core.common import actor_row, ctx_of, the_actor
from server.activitypub.core.documents import viewer_of
from server.activitypub.core.vocab import context, first_id, type_of
from server.context import Context
from server.errors import NotFound
from server.events import Event
from server.keys import CTX
from server.services import community_documents, post_rows, roadmap, roadmap_lookup, roadmap_social
from server.visibility import can_see_item

log = logging.getLogger(__name__)


async def _roadmap_of(conn: AsyncConnection, base: str, uri: str) -> int | None:
    """The local community whose roadmap collection ``uri`` is, if it is one."""
    prefix, _, handle = uri.rpartition("/communities/")
    if prefix != base or not handle.endswith("/roadmap"):
        return None
    return await community_documents.local_community_id(conn, handle.removesuffix("/roadmap"))


async def items_named(app: web.Application, uri: str | None) -> tuple[list[int], int | None]:
    """The roadmap items an object id names (one item, or every public item of a roadmap
    collection) and, for a collection, its community."""
    if not uri:
        return [], None
    async with ctx_of(app).db.read() as conn:
        found = await roadmap.item_id_by_uri(conn, uri)
        if found is not None:
            return [found], None
        community_id = await _roadmap_of(conn, ctx_of(app).base, uri)
        if community_id is None:
            return [], None
        return await roadmap_lookup.listed_item_ids(conn, community_id), community_id


async def _follow_items(
    app: web.Application,
    activity: dict[str, Any],
    signer_id: int,
    items: list[int],
    community_id: int | None,
) -> None:
    actor_id = await the_actor(app, activity, signer_id)
    ctx = ctx_of(app)
    followed = []
    if community_id is not None:  # the whole collection: later items reach the follower too
        await roadmap_social.subscribe(ctx, actor_id, community_id, uri=first_id(activity))
    for item_id in items:
        try:
            await roadmap_social.follow(ctx, actor_id, item_id, uri=first_id(activity))
            followed.append(item_id)
        except NotFound:
            continue
    if not followed and community_id is None:
        raise Ignore("not_visible", "the actor may not see that roadmap item")
    async with ctx.db.write() as conn:
        group = (
            await post_rows.community_actor(conn, community_id)
            if community_id
            else await roadmap_lookup.group_of_item(conn, followed[0])
        )
        if group is None:  # the community was found by its roadmap collection just before
            raise Ignore("unknown_community", "the roadmap's community is gone")
        follower = await actor_row(conn, actor_id)
        follow = {
            "id": first_id(activity),
            "type": "Follow",
            "actor": follower.uri,
            "object": first_id(activity.get("object")),
        }
        doc = convert.activity(
            ctx.base,
            "Accept",
            id=f"{group.uri}#accepts/roadmap/{actor_id}/{int(clock.now().timestamp() * 1000)}",
            actor=group.uri,
            object=follow,
            to=[follower.uri],
        )
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, [actor_id])
        )


async def on_follow(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Follow`` of a roadmap item or of a whole roadmap collection: answered with ``Accept``."""
    items, community_id = await items_named(app, first_id(activity.get("object")))
    await _follow_items(app, activity, signer_id, items, community_id)


async def on_like(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Like`` of a roadmap item: a support."""
    items, _ = await items_named(app, first_id(activity.get("object")))
    actor_id = await the_actor(app, activity, signer_id)
    try:
        await roadmap_social.support(ctx_of(app), actor_id, items[0], uri=first_id(activity))
    except NotFound:
        raise Ignore("not_visible", "the actor may not see that roadmap item") from None


async def on_undo(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Undo`` of a ``Follow`` or ``Like`` of a roadmap item (or of a roadmap collection)."""
    inner = activity.get("object")
    kind = type_of(inner)
    target = first_id(inner.get("object")) if isinstance(inner, dict) else None
    items, community_id = await items_named(app, target)
    actor_id = await the_actor(app, activity, signer_id)
    undo = roadmap_social.unfollow if kind == "Follow" else roadmap_social.unsupport
    done = [await undo(ctx_of(app), actor_id, item_id) for item_id in items]
    if kind == "Follow" and community_id is not None:
        done.append(await roadmap_social.unsubscribe(ctx_of(app), actor_id, community_id))
    if not any(done):
        raise Ignore("nothing_to_undo", f"no {kind} of that roadmap item to undo")


class RoadmapOutbox:
    """Home side: ``Create`` / ``Update`` of an item to its followers and the community's remote
    members (in-transaction: enqueue only)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def _send(self, conn: AsyncConnection, event: Event, kind: str) -> None:
        item_id = event.data["item_id"]
        recipients = await roadmap_social.remote_audience(conn, item_id)
        obj = await roadmap_object(conn, self.ctx.base, item_id)
        if not recipients or obj is None:
            return
        group = await roadmap_lookup.group_of_item(conn, item_id)
        body = {k: v for k, v in obj.items() if k != "@context"}
        suffix = f"#updates/{event.data.get('change_id', 0)}" if kind == "Update" else "#create"
        doc = convert.activity(
            self.ctx.base,
            kind,
            id=f"{obj['id']}{suffix}",
            actor=group.uri,
            object=body,
            to=[obj["followers"]],
            cc=obj.get("to", []),
            audience=group.uri,
        )
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, recipients)
        )

    async def item_created(self, conn: AsyncConnection, event: Event) -> None:
        """A new item: ``Create`` of its ``Article``."""
        await self._send(conn, event, "Create")

    async def item_updated(self, conn: AsyncConnection, event: Event) -> None:
        """A status or target date change: ``Update`` of the item."""
        await self._send(conn, event, "Update")


async def item_followers(request: web.Request) -> web.Response:
    """The item's followers collection (a count only: followers are not listed)."""
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        uri = await roadmap_lookup.item_uri(conn, item_id)
        if uri is None or not await can_see_item(conn, await viewer_of(request), item_id):
            raise web.HTTPNotFound()
        count = (await roadmap_social.standing(conn, item_id, None)).followers
    return activity_json(
        {
            "@context": context(ctx.base),
            "id": f"{uri}/followers",
            "type": "OrderedCollection",
            "totalItems": count,
        }
    )
