"""Community objects served as ActivityStreams: roles, roadmap items and purpose versions by id
(content negotiation on the community pages' own paths), and the community's collections.

The HTML pages at ``/c/{handle}/roles/{id}`` … belong to the community web pages; a middleware
answers there only when the client asks for ActivityStreams, and passes everything else on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from federation.documents import activity_json, wants_activitypub
from server.activitypub.communities.objects import purpose_object, roadmap_object, role_object
from server.activitypub.core.collections import ordered_collection, without_context
from server.activitypub.core.documents import viewer_of
from server.keys import CTX
from server.services import community_documents as reads
from server.visibility import can_see_item

routes = web.RouteTableDef()
_OBJECT_PATH = re.compile(r"^/c/(?P<handle>[^/]+)/(?P<kind>roles|roadmap|purpose)/(?P<id>\d+)$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _community_id(request: web.Request, handle: str) -> int:
    async with request.app[CTX].db.read() as conn:
        found = await reads.local_community_id(conn, handle)
    if found is None:
        raise web.HTTPNotFound()
    return found


async def object_response(
    request: web.Request, handle: str, kind: str, object_id: int
) -> web.Response:
    """The AS document of a role, roadmap item (if visible) or purpose version; 404 otherwise."""
    ctx = request.app[CTX]
    community_id = await _community_id(request, handle)
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        doc: dict[str, Any] | None = None
        if kind == "purpose":
            doc = await purpose_object(conn, ctx.base, community_id, object_id)
        elif kind == "roles":
            owner = await reads.role_community(conn, object_id)
            doc = await role_object(conn, ctx.base, object_id) if owner == community_id else None
        else:
            owner = await reads.roadmap_item_community(conn, object_id)
            if owner == community_id and await can_see_item(conn, viewer, object_id):
                doc = await roadmap_object(conn, ctx.base, object_id)
    if doc is None:
        raise web.HTTPNotFound()
    return activity_json(doc)


@web.middleware
async def negotiate_community_objects(request: web.Request, handler: Handler) -> web.StreamResponse:
    """ActivityStreams clients get the object at the community pages' paths; browsers the page."""
    match = _OBJECT_PATH.match(request.path)
    if request.method == "GET" and match and wants_activitypub(request):
        return await object_response(request, match["handle"], match["kind"], int(match["id"]))
    return await handler(request)


@routes.get("/communities/{handle}/roles")
async def roles_collection(request: web.Request) -> web.Response:
    """The community's roles, each with its holders."""
    await viewer_of(request)  # in secure mode a 401 unsigned
    ctx = request.app[CTX]
    community_id = await _community_id(request, request.match_info["handle"])
    async with ctx.db.read() as conn:
        ids = await reads.role_ids(conn, community_id)
        items = [without_context(await role_object(conn, ctx.base, i)) for i in ids]
    return activity_json(ordered_collection(ctx.base, f"{ctx.base}{request.path}", items))


@routes.get("/communities/{handle}/roadmap")
async def roadmap_collection(request: web.Request) -> web.Response:
    """The roadmap items the requester may see."""
    ctx = request.app[CTX]
    community_id = await _community_id(request, request.match_info["handle"])
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        ids = await reads.published_roadmap_ids(conn, viewer, community_id)
        items = [without_context(await roadmap_object(conn, ctx.base, i)) for i in ids]
    return activity_json(ordered_collection(ctx.base, f"{ctx.base}{request.path}", items))


@routes.get("/communities/{handle}/purpose")
async def purpose_collection(request: web.Request) -> web.Response:
    """Every accepted version of the purpose, newest first."""
    await viewer_of(request)  # in secure mode a 401 unsigned
    ctx = request.app[CTX]
    community_id = await _community_id(request, request.match_info["handle"])
    async with ctx.db.read() as conn:
        versions = await reads.purpose_version_numbers(conn, community_id)
        items = [
            without_context(await purpose_object(conn, ctx.base, community_id, v)) for v in versions
        ]
    return activity_json(ordered_collection(ctx.base, f"{ctx.base}{request.path}", items))
