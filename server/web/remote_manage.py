"""``/c/{handle}@{host}/manage``: a manager who lives here manages a community hosted elsewhere.

Join requests are read live from the community's home (its requests collection, fetched signed as
the manager, who alone may read it); approving or declining one, and moving a roadmap item to
another status, is sent to the Group signed by the manager (``activitypub/remote_management.py``).
The home applies it when the activity arrives, so the page says "sent", not "done".
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.actors import fetch_signed
from federation.errors import FederationError
from server.activitypub import remote_management
from server.activitypub.remote_sync import collection_items
from server.app import CTX
from server.errors import Forbidden, KoersError, NotFound
from server.services import communities, remote_communities, roadmap
from server.services.remote_communities import RemoteCommunity
from server.web.render import flash, form, redirect, render, require_user, viewer

routes = web.RouteTableDef()

BASE = r"/c/{handle:[A-Za-z0-9_]+}@{host:[A-Za-z0-9.\-]+(?::\d+)?}/manage"


async def _managed(request: web.Request) -> tuple[Any, RemoteCommunity]:
    """The logged-in manager and the remote community; Forbidden for anyone else."""
    user = await require_user(request)
    async with request.app[CTX].db.read() as conn:
        rc = await remote_communities.find(conn, request.match_info["handle"], request.match_info["host"])
        if rc.community is None or not await communities.is_manager(conn, rc.community.id, user.id):
            raise Forbidden("only this community's managers can manage it")
    return user, rc


async def _requests(request: web.Request, rc: RemoteCommunity, manager_id: int) -> tuple[list[dict[str, Any]], str | None]:
    """The pending join requests as the home reports them, or an explanation why they are unknown."""
    try:
        doc = await fetch_signed(request.app, f"{rc.uri}/requests", as_actor=manager_id, refresh=True)
    except FederationError as exc:
        return [], f"The join requests could not be read from {rc.domain}: {exc}"
    items = [i for i in collection_items(doc) if isinstance(i, dict) and isinstance(i.get("actor"), str)]
    return items, None


async def _page(request: web.Request, *, status: int = 200, error: str | None = None) -> web.Response:
    user, rc = await _managed(request)
    assert rc.community is not None
    pending, unreadable = await _requests(request, rc, user.id)
    async with request.app[CTX].db.read() as conn:
        items = await roadmap.items(conn, await viewer(request), rc.community.id)
    return await render(
        request, "community_remote_manage.html", status=status, rc=rc, requests=pending, requests_error=unreadable,
        items=[i for i in items if i.uri], statuses=roadmap.STATUSES, labels=roadmap.STATUS_LABELS, error=error,
        remote_manager=True,
    )  # fmt: skip


@routes.get(BASE)
async def manage_page(request: web.Request) -> web.Response:
    """Join requests and roadmap statuses of a remote community, for its managers here."""
    return await _page(request)


@routes.post(BASE + "/requests")
async def decide_request(request: web.Request) -> web.Response:
    """Approve or decline one join request; the decision goes to the community's home."""
    await require_user(request)
    data = await form(request)  # the CSRF token is checked before anything is looked up
    user, rc = await _managed(request)
    assert rc.community is not None
    decision = data.get("decision")
    if decision not in ("accept", "reject"):
        return await _page(request, status=400, error="Choose to approve or decline the request.")
    follow = {"id": data.get("follow_id"), "actor": data.get("actor")}
    try:
        await remote_management.send_join_decision(request.app[CTX], user.id, rc.community.id, follow,
                                                   accept=decision == "accept")  # fmt: skip
    except KoersError as exc:
        return await _page(request, status=exc.status, error=exc.message)
    flash(request, f"Your decision was sent to {rc.domain}.")
    raise redirect(f"{rc.path}/manage")


@routes.post(BASE + r"/roadmap/{item_id:\d+}")
async def item_status(request: web.Request) -> web.Response:
    """Move one roadmap item to another status at the community's home."""
    await require_user(request)
    data = await form(request)
    user, rc = await _managed(request)
    assert rc.community is not None
    try:
        item_id = int(request.match_info["item_id"])
        if item_id > 2**31 - 1:
            raise NotFound("no such roadmap item")
        await remote_management.send_item_status(request.app[CTX], user.id, rc.community.id, item_id,
                                                 str(data.get("status", "")), str(data.get("note", "")))  # fmt: skip
    except KoersError as exc:
        return await _page(request, status=exc.status, error=exc.message)
    flash(request, f"The new status was sent to {rc.domain}.")
    raise redirect(f"{rc.path}/manage")
