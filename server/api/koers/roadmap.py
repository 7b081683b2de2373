"""Koers API: a community's roadmap — items the caller may see, adding items, changing status.

Reads go through ``roadmap.items`` / ``roadmap.get_item`` (``visibility.items_visible_to``): an
item hidden from the caller answers 404, exactly as one that does not exist. Reads take the
community's id or ``handle@host`` for a community on another instance (its roadmap as known here).
"""

from __future__ import annotations

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import choice, json_body, optional_id, path_id, text
from server.api.koers.purpose_process import community_id_of
from server.api.koers.serialize import to_item_json
from server.keys import CTX
from server.services import communities, roadmap
from server.visibility import ITEM_AUDIENCES

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()
AUDIENCES = tuple(a.value for a in ITEM_AUDIENCES)


@routes.get(PREFIX + r"/communities/{id}/roadmap")
async def list_items(request: web.Request) -> web.Response:
    """The roadmap items the caller may see, most recently changed first."""
    auth = await authenticate(request, "read", required=False)
    community_id = await community_id_of(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        found = await roadmap.items(conn, auth.viewer, community_id)
    return web.json_response([to_item_json(i) for i in found])


@routes.post(PREFIX + r"/communities/{id}/roadmap")
async def create_item(request: web.Request) -> web.Response:
    """A member adds an item to the roadmap."""
    auth = await user_auth(request, "write")
    community_id = await community_id_of(request)
    body = await json_body(request)
    title = text(body, "title", required=True, max_len=roadmap.MAX_TITLE)
    description = text(body, "description", max_len=roadmap.MAX_DESCRIPTION)
    status = choice(body, "status", roadmap.STATUSES, default="idea")
    audience = choice(body, "audience", AUDIENCES, default="public")
    owner_role_id = optional_id(body, "owner_role_id")
    purpose_version = optional_id(body, "purpose_version")
    ctx = request.app[CTX]
    item_id = await roadmap.create_item(
        ctx,
        auth.need_user(),
        community_id,
        title=title,
        description=description,
        status=status or "idea",
        owner_role_id=owner_role_id,
        audience=audience or "public",
        purpose_version=purpose_version,
    )
    return await _item_response(request, community_id, item_id, status=201)


async def _item_response(
    request: web.Request, community_id: int, item_id: int, *, status: int = 200
) -> web.Response:
    auth = await authenticate(request, "read", "write", required=False)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        item = await roadmap.get_item(conn, auth.viewer, community_id, item_id)
        history = await roadmap.history(conn, item_id)
    return web.json_response(to_item_json(item, history), status=status)


@routes.get(PREFIX + r"/communities/{id}/roadmap/{item_id}")
async def get_item(request: web.Request) -> web.Response:
    """One item with its status history."""
    await authenticate(request, "read", required=False)
    return await _item_response(
        request, await community_id_of(request), path_id(request, "item_id")
    )


@routes.post(PREFIX + r"/communities/{id}/roadmap/{item_id}/status")
async def change_status(request: web.Request) -> web.Response:
    """Move an item to another status (managers, its author or holders of its owner role)."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    item_id = path_id(request, "item_id")
    body = await json_body(request)
    status = choice(body, "status", roadmap.STATUSES, required=True)
    note = text(body, "note", max_len=roadmap.MAX_NOTE)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
        await roadmap.get_item(conn, auth.viewer, community_id, item_id)
    await roadmap.change_status(ctx, auth.need_user(), item_id, str(status), note)
    return await _item_response(request, community_id, item_id)
