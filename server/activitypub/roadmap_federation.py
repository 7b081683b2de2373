"""Open roadmaps over ActivityPub: any fediverse account follows a roadmap item (or the whole
roadmap collection) and receives an ``Update`` of the item at each status change; a ``Like`` of an
item is a support. Events and joins of community events are wired here too.

The transport holds one handler per activity type, so ``install`` wraps the existing ``Follow``,
``Like``, ``Undo``, ``Create``, ``Update``, ``Accept`` and ``Reject`` handlers: activities about a
roadmap item or an event come here, everything else goes on to the handler registered before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json
from federation.errors import Ignore
from federation.state import INBOX_HANDLERS
from server import clock
from server.activitypub import convert, event_federation, remote_events, remote_ideas, roadmap_sync
from server.activitypub.community_objects import roadmap_object
from server.activitypub.documents import viewer_of
from server.activitypub.incoming_common import ctx_of, the_actor
from server.activitypub.vocab import context, first_id, type_of
from server.errors import NotFound
from server.events import Event
from server.keys import CTX
from server.services import roadmap_social
from server.storage import schema as t
from server.visibility import ANONYMOUS, can_see_item, items_listed_for

log = logging.getLogger(__name__)
Handler = Callable[[web.Application, dict[str, Any], int], Awaitable[None]]


async def _roadmap_of(conn: AsyncConnection, base: str, uri: str) -> int | None:
    """The local community whose roadmap collection ``uri`` is, if it is one."""
    prefix, _, handle = uri.rpartition("/communities/")
    if prefix != base or not handle.endswith("/roadmap"):
        return None
    return (
        await conn.execute(
            sa.select(t.communities.c.id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(
                t.actors.c.username == handle.removesuffix("/roadmap").lower(),
                t.actors.c.domain.is_(None),
            )
        )
    ).scalar()


async def _items_named(app: web.Application, uri: str | None) -> tuple[list[int], int | None]:
    """The roadmap items an object id names (one item, or every public item of a roadmap
    collection) and, for a collection, its community."""
    if not uri:
        return [], None
    async with ctx_of(app).db.read() as conn:
        found = (
            await conn.execute(sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.uri == uri))
        ).scalar()
        if found is not None:
            return [int(found)], None
        community_id = await _roadmap_of(conn, ctx_of(app).base, uri)
        if community_id is None:
            return [], None
        rows = await conn.execute(
            sa.select(t.roadmap_items.c.id).where(
                t.roadmap_items.c.community_id == community_id, items_listed_for(ANONYMOUS)
            )
        )
        return [int(r[0]) for r in rows], int(community_id)


async def _group_of_community(conn: AsyncConnection, community_id: int) -> sa.Row:
    return (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id)
        )
    ).one()


async def _group_of_item(conn: AsyncConnection, item_id: int) -> sa.Row:
    return (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .join(t.roadmap_items, t.roadmap_items.c.community_id == t.communities.c.id)
            .where(t.roadmap_items.c.id == item_id)
        )
    ).one()


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
            await _group_of_community(conn, community_id)
            if community_id
            else await _group_of_item(conn, followed[0])
        )
        follower = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()
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


def _follow(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        items, community_id = await _items_named(app, first_id(activity.get("object")))
        if not items and community_id is None:
            return await previous(app, activity, signer_id)
        await _follow_items(app, activity, signer_id, items, community_id)

    return handle


def _like(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        items, community_id = await _items_named(app, first_id(activity.get("object")))
        if len(items) != 1 or community_id is not None:
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        try:
            await roadmap_social.support(ctx_of(app), actor_id, items[0], uri=first_id(activity))
        except NotFound:
            raise Ignore("not_visible", "the actor may not see that roadmap item") from None

    return handle


def _undo(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        inner = activity.get("object")
        kind = type_of(inner)
        target = first_id(inner.get("object")) if isinstance(inner, dict) else None
        if kind == "Join":
            actor_id = await the_actor(app, activity, signer_id)
            return await event_federation.leave_event(app, actor_id, target)
        items, community_id = (
            await _items_named(app, target) if kind in ("Follow", "Like") else ([], None)
        )
        if not items and community_id is None:
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        undo = roadmap_social.unfollow if kind == "Follow" else roadmap_social.unsupport
        done = [await undo(ctx_of(app), actor_id, item_id) for item_id in items]
        if kind == "Follow" and community_id is not None:
            done.append(await roadmap_social.unsubscribe(ctx_of(app), actor_id, community_id))
        if not any(done):
            raise Ignore("nothing_to_undo", f"no {kind} of that roadmap item to undo")

    return handle


def install(app: web.Application) -> None:
    """Wrap Follow/Like/Undo, add Join/Leave, and hook the outgoing listeners of roadmaps and events."""
    handlers = app[INBOX_HANDLERS]
    for name, wrap in (("Follow", _follow), ("Like", _like), ("Undo", _undo)):
        previous = handlers.get(name)
        assert previous is not None, f"{name} must be registered before roadmap_federation.install"
        handlers.register(name, wrap(previous))
    handlers.register("Create", remote_events.wrap_create(handlers.get("Create")))
    handlers.register("Update", remote_events.wrap_create(handlers.get("Update")))
    handlers.register("Accept", remote_events.wrap_answer(handlers.get("Accept"), "Accept"))
    handlers.register("Reject", remote_events.wrap_answer(handlers.get("Reject"), "Reject"))
    roadmap_sync.install(app, handlers)  # items of remote roadmaps; also registers its syncer
    remote_ideas.install(app, handlers)
    handlers.register("Join", event_federation.on_join)
    handlers.register("Leave", event_federation.on_leave)
    ctx = app[CTX]
    event_federation.EventOutbox(ctx).register()
    remote_events.RemoteRsvpOutbox(ctx).register()

    async def send_item(conn: AsyncConnection, event: Event, kind: str) -> None:
        item_id = event.data["item_id"]
        recipients = await roadmap_social.remote_audience(conn, item_id)
        obj = await roadmap_object(conn, ctx.base, item_id)
        if not recipients or obj is None:
            return
        group = await _group_of_item(conn, item_id)
        body = {k: v for k, v in obj.items() if k != "@context"}
        suffix = f"#updates/{event.data.get('change_id', 0)}" if kind == "Update" else "#create"
        doc = convert.activity(
            ctx.base,
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

    async def item_updated(conn: AsyncConnection, event: Event) -> None:
        await send_item(conn, event, "Update")

    async def item_created(conn: AsyncConnection, event: Event) -> None:
        await send_item(conn, event, "Create")

    ctx.events.on("roadmap.created", item_created)
    ctx.events.on("roadmap.status_changed", item_updated)
    app.router.add_get(r"/c/{handle}/roadmap/{item_id:\d+}/followers", item_followers)
    app.middlewares.append(event_federation.negotiate_events)


async def item_followers(request: web.Request) -> web.Response:
    """The item's followers collection (a count only: followers are not listed)."""
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        uri = (
            await conn.execute(
                sa.select(t.roadmap_items.c.uri).where(t.roadmap_items.c.id == item_id)
            )
        ).scalar()
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
