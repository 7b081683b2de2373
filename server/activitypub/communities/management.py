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
- **Roadmap status** is the roadmap's part: ``roadmap/management.py``.

B keeps the community's managers (``community_managers`` of its ``communities`` row) from the
Group's ``Add``/``Remove`` of moderators and, on a catch-up, from the Group's ``attributedTo``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json
from federation.errors import Ignore
from server import clock
from server.activitypub.communities.documents import _community_id
from server.activitypub.core import convert, remote_sync
from server.activitypub.core.collections import ordered_collection
from server.activitypub.core.common import actor_by_uri, ctx_of, resolve, the_actor
from server.activitypub.core.documents import viewer_of
from server.activitypub.core.vocab import first_id, type_of
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.keys import CTX
from server.services import communities, insights, post_rows, remote_groups
from server.services.community_requests import (
    community_of_group,
    join_follow_by_uri,
    manager_and_group,
    pending_requests,
)
from server.services.insights_json import insights_json

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_REQUESTS = 500  # the oldest pending requests; a manager works through them and sees the next


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
        group = await post_rows.community_actor(conn, community_id)
        if group is None:
            raise web.HTTPNotFound()
        rows = await pending_requests(conn, group.id, MAX_REQUESTS)
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
    return activity_json(ordered_collection(ctx.base, f"{ctx.base}{request.path}", items))


@routes.get("/communities/{handle}/insights")
async def insights_document(request: web.Request) -> web.Response:
    """The managers' insights (as the Koers API gives them), for a signed fetch by one of the managers.

    ``?weeks=`` as on the page; anyone else gets a 404, as for the requests collection.
    """
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
    return await join_follow_by_uri(conn, uri)


async def join_request_named(
    conn: AsyncConnection, activity: dict[str, Any]
) -> tuple[int, Row] | None:
    """(requester id, community) of the pending join to a local community an Accept/Reject names."""
    named = await _follow_named(conn, activity.get("object"))
    if named is None:
        return None
    community = await community_of_group(conn, named[1])
    return None if community is None else (named[0], community)


async def _decide(
    app: web.Application, activity: dict[str, Any], signer_id: int, *, accept: bool
) -> None:
    async with ctx_of(app).db.read() as conn:
        found = await join_request_named(conn, activity)
    if found is None:
        raise Ignore("unknown_request", "no pending join matches")
    manager_id = await the_actor(app, activity, signer_id)
    decide = communities.approve_join if accept else communities.reject_join
    try:
        await decide(ctx_of(app), manager_id, int(found[1].id), found[0])
    except (Forbidden, NotFound) as exc:
        raise Ignore("not_allowed", exc.message) from None


async def on_join_approved(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A community manager on another instance approves a pending join (``Accept`` of the ``Follow``)."""
    await _decide(app, activity, signer_id, accept=True)


async def on_join_declined(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A community manager on another instance declines a pending join (``Reject`` of the ``Follow``)."""
    await _decide(app, activity, signer_id, accept=False)


# --- on the manager's instance (B) ---------------------------------------------------------------


async def send_join_decision(
    ctx: Context, manager_id: int, community_id: int, follow: dict[str, Any], *, accept: bool
) -> None:
    """Approve or decline a join request (a ``Follow`` from the requests collection) of a remote community."""
    if not isinstance(follow.get("actor"), str) or not isinstance(follow.get("id"), str):
        raise ValidationError("that request could not be read", field="request")
    kind = "Accept" if accept else "Reject"
    async with ctx.db.write() as conn:
        manager, group = await manager_and_group(conn, manager_id, community_id)
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
        await remote_groups.replace_managers(conn, target.community_id, ids)
