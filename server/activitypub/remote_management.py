"""Managers on partner instances manage a community from home.

A community's managers may live on any instance (``community_moderators``). One on B manages A's
community from B's pages; B sends what they decide, signed by them, to the Group's inbox on A, and A
applies it exactly as if a local manager had pressed the button — after checking that the signer is
one of the community's managers:

- **Join requests.** ``GET {group}/requests`` lists the pending requests (``Follow`` activities), for
  managers' signed fetches only. An ``Accept`` or ``Reject`` from a manager whose object is such a
  ``Follow`` (embedded, or by its id) approves or declines it; A then answers the requester as usual.
- **Insights.** ``GET {group}/insights`` answers a manager's signed fetch with the managers' insights
  (the Koers API's shape), so a manager on B sees them on B's pages.
- **Roadmap status.** An ``Update`` from a manager naming one of A's roadmap items by id, with the
  new ``koers:status`` (and an optional ``summary``, the note) on the activity itself, moves the item;
  A records the change and sends its own ``Update`` of the item.

B keeps the community's managers (``community_managers`` of its ``communities`` row) from the
Group's ``Add``/``Remove`` of moderators and, on a catch-up, from the Group's ``attributedTo``.
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
from server.activitypub import convert, remote_sync
from server.activitypub.community_documents import _collection, _community_id
from server.activitypub.documents import viewer_of
from server.activitypub.incoming_common import actor_by_uri, ctx_of, resolve, the_actor
from server.activitypub.vocab import first_id, type_of
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.keys import CTX
from server.services import communities, insights, roadmap
from server.storage import schema as t

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_REQUESTS = 500  # the oldest pending requests; a manager works through them and sees the next
Handler = Callable[[web.Application, dict[str, Any], int], Awaitable[None]]


# --- on the community's home (A) -----------------------------------------------------------------


@routes.get("/communities/{handle}/requests")
async def requests_collection(request: web.Request) -> web.Response:
    """Pending join requests as ``Follow`` activities; only the community's managers may read them."""
    ctx = request.app[CTX]
    community_id = await _community_id(request, request.match_info["handle"])
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        if not await communities.is_manager(conn, community_id, viewer.actor_id):
            raise web.HTTPNotFound()
        group = (
            await conn.execute(
                sa.select(t.actors)
                .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
                .where(t.communities.c.id == community_id)
            )
        ).one()
        rows = await conn.execute(
            sa.select(
                t.follows.c.uri,
                t.follows.c.created_at,
                t.actors.c.uri.label("actor"),
                t.actors.c.display_name,
                t.actors.c.username,
                t.actors.c.domain,
            )
            .join(t.actors, t.actors.c.id == t.follows.c.follower_id)
            .where(t.follows.c.target_id == group.id, t.follows.c.state == "pending")
            .order_by(t.follows.c.id)
            .limit(MAX_REQUESTS)
        )
        items = [
            {
                "type": "Follow",
                "id": r.uri or f"{r.actor}#join/{group.username}",
                "actor": r.actor,
                "object": group.uri,
                "published": clock.iso(r.created_at),
                "name": f"{r.display_name or r.username} (@{r.username}@{r.domain or ctx.settings.domain})",
            }
            for r in rows
        ]
    return activity_json(_collection(ctx.base, f"{ctx.base}{request.path}", items))


@routes.get("/communities/{handle}/insights")
async def insights_document(request: web.Request) -> web.Response:
    """The managers' insights (as the Koers API gives them), for a signed fetch by one of the managers.

    ``?weeks=`` as on the page; anyone else gets a 404, as for the requests collection.
    """
    from server.api.koers.insights import insights_json

    ctx = request.app[CTX]
    community_id = await _community_id(request, request.match_info["handle"])
    viewer = await viewer_of(request)
    raw = request.query.get("weeks", "")
    weeks = (
        int(raw)
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= insights.MAX_WEEKS
        else insights.DEFAULT_WEEKS
    )
    async with ctx.db.read() as conn:
        if not await communities.is_manager(conn, community_id, viewer.actor_id):
            raise web.HTTPNotFound()
        data = await insights.community_insights(ctx, conn, viewer, community_id, weeks=weeks)
    body = insights_json(data)
    for person in body["people"]:  # accounts as the other instance can name them
        account = person["account"]
        if "@" not in account["acct"]:
            account["acct"] = f"{account['acct']}@{ctx.settings.domain}"
    return web.json_response(body)


async def _follow_named(conn: AsyncConnection, inner: Any) -> tuple[int, int] | None:
    """(follower id, local Group actor id) of the pending join an Accept/Reject's object names."""
    if isinstance(inner, dict) and type_of(inner) == "Follow":
        follower = await actor_by_uri(conn, first_id(inner.get("actor")))
        group = await actor_by_uri(conn, first_id(inner.get("object")))
        if (
            follower is not None
            and group is not None
            and group.kind == "group"
            and group.domain is None
        ):
            return int(follower.id), int(group.id)
    uri = first_id(inner)
    if not uri:
        return None
    row = (
        await conn.execute(
            sa.select(t.follows.c.follower_id, t.follows.c.target_id)
            .join(t.actors, t.actors.c.id == t.follows.c.target_id)
            .where(t.follows.c.uri == uri, t.actors.c.kind == "group", t.actors.c.domain.is_(None))
        )
    ).first()
    return (int(row.follower_id), int(row.target_id)) if row else None


def _answer(previous: Handler, kind: str) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        async with ctx_of(app).db.read() as conn:
            named = await _follow_named(conn, activity.get("object"))
            community = None
            if named is not None:
                community = (
                    await conn.execute(
                        sa.select(t.communities).where(t.communities.c.actor_id == named[1])
                    )
                ).first()
        if named is None or community is None:
            return await previous(app, activity, signer_id)
        manager_id = await the_actor(app, activity, signer_id)
        decide = communities.approve_join if kind == "Accept" else communities.reject_join
        try:
            await decide(ctx_of(app), manager_id, int(community.id), named[0])
        except (Forbidden, NotFound) as exc:
            raise Ignore("not_allowed", exc.message) from None

    return handle


def _update(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        uri, status = first_id(activity.get("object")), activity.get("koers:status")
        item = None
        if uri and isinstance(status, str):
            async with ctx_of(app).db.read() as conn:
                item = (
                    await conn.execute(
                        sa.select(t.roadmap_items.c.id, t.roadmap_items.c.status)
                        .join(t.communities, t.communities.c.id == t.roadmap_items.c.community_id)
                        .where(t.roadmap_items.c.uri == uri, t.communities.c.local.is_(True))
                    )
                ).first()
        if item is None or not isinstance(status, str):  # (an item is looked up for a str status)
            return await previous(app, activity, signer_id)
        manager_id = await the_actor(app, activity, signer_id)
        if status == item.status:
            return
        note = s if isinstance(s := activity.get("summary"), str) else ""
        try:
            await roadmap.change_status(
                ctx_of(app), manager_id, int(item.id), status, note[: roadmap.MAX_NOTE]
            )
        except (Forbidden, NotFound, ValidationError) as exc:
            raise Ignore("not_allowed", exc.message) from None

    return handle


# --- on the manager's instance (B) ---------------------------------------------------------------


async def _manager_and_group(
    conn: AsyncConnection, manager_id: int, community_id: int
) -> tuple[sa.Row, sa.Row]:
    community = (
        await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
    ).first()
    if community is None or community.local:
        raise NotFound("no such community on another instance")
    if not await communities.is_manager(conn, community_id, manager_id):
        raise Forbidden("only the community's managers can do this")
    manager = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == manager_id))).one()
    group = (
        await conn.execute(sa.select(t.actors).where(t.actors.c.id == community.actor_id))
    ).one()
    return manager, group


async def send_join_decision(
    ctx: Context, manager_id: int, community_id: int, follow: dict[str, Any], *, accept: bool
) -> None:
    """Approve or decline a join request (a ``Follow`` from the requests collection) of a remote community."""
    if not isinstance(follow.get("actor"), str) or not isinstance(follow.get("id"), str):
        raise ValidationError("that request could not be read", field="request")
    kind = "Accept" if accept else "Reject"
    async with ctx.db.write() as conn:
        manager, group = await _manager_and_group(conn, manager_id, community_id)
        inner = {
            "id": follow["id"],
            "type": "Follow",
            "actor": follow["actor"],
            "object": group.uri,
        }
        stamp = int(clock.now().timestamp() * 1000)
        doc = convert.activity(
            ctx.base,
            kind,
            id=f"{manager.uri}#join-decisions/{stamp}",
            actor=manager.uri,
            object=inner,
            to=[group.uri],
        )
        await enqueue(
            conn, activity=doc, actor_id=manager.id, inboxes=await inboxes_for(conn, [group.id])
        )


async def send_item_status(
    ctx: Context, manager_id: int, community_id: int, item_id: int, status: str, note: str = ""
) -> None:
    """Move a remote community's roadmap item to ``status`` (its home applies it and tells everyone)."""
    if status not in roadmap.STATUSES:
        raise ValidationError(
            "status: choose one of " + ", ".join(roadmap.STATUSES), field="status"
        )
    if len(note) > roadmap.MAX_NOTE:
        raise ValidationError(f"note: at most {roadmap.MAX_NOTE} characters", field="note")
    async with ctx.db.write() as conn:
        manager, group = await _manager_and_group(conn, manager_id, community_id)
        item = (
            await conn.execute(
                sa.select(t.roadmap_items).where(
                    t.roadmap_items.c.id == item_id, t.roadmap_items.c.community_id == community_id
                )
            )
        ).first()
        if item is None or not item.uri:
            raise NotFound("no such roadmap item")
        stamp = int(clock.now().timestamp() * 1000)
        # The item is the home's object: it is named by id; the new status travels on the activity.
        extra: dict[str, Any] = {"koers:status": status}
        doc = convert.activity(
            ctx.base,
            "Update",
            id=f"{manager.uri}#roadmap-status/{stamp}",
            actor=manager.uri,
            object=item.uri,
            to=[group.uri],
            summary=note.strip(),
            **extra,
        )
        await enqueue(
            conn, activity=doc, actor_id=manager.id, inboxes=await inboxes_for(conn, [group.id])
        )


async def sync_managers(app: web.Application, target: remote_sync.SyncTarget) -> None:
    """Catch-up: the community's managers, from the Group's ``attributedTo`` (a list of people, as
    Koers publishes it, or a moderators collection, as Lemmy does). Nothing changes when unreadable."""
    listed = target.group.get("attributedTo")
    if isinstance(listed, str):
        listed = (
            remote_sync.collection_items(await remote_sync.fetch_as(app, listed, target.signers))
            or None
        )
    if not isinstance(listed, list):
        return
    ids: list[int] = []
    for uri in (first_id(v) for v in listed):
        if uri:
            try:
                ids.append(await resolve(app, uri))
            except Ignore as exc:
                log.info(
                    "manager %s of community %s not resolved: %s", uri, target.community_id, exc
                )
    async with ctx_of(app).db.write() as conn:
        await conn.execute(
            t.community_managers.delete().where(
                t.community_managers.c.community_id == target.community_id
            )
        )
        for actor_id in dict.fromkeys(ids):
            await conn.execute(
                t.community_managers.insert().values(
                    community_id=target.community_id, actor_id=actor_id, created_at=clock.now()
                )
            )


def install(app: web.Application) -> None:
    """Wrap Accept/Reject/Update, add the requests collection and the managers' catch-up."""
    handlers = app[INBOX_HANDLERS]
    for name in ("Accept", "Reject"):
        handlers.register(name, _answer(handlers.registered(name), name))
    handlers.register("Update", _update(handlers.registered("Update")))
    app.router.add_routes(routes)
    remote_sync.register(sync_managers)
