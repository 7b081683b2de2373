"""Koers API: a community's purpose — the current version, its history, and changing it.

Changing the purpose is a community manager's decision (``purpose.change_purpose``); every
earlier version stays readable in the history.
"""

from __future__ import annotations

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import json_body, path_id, text
from server.api.koers.purpose_process import community_id_of
from server.api.koers.serialize import to_purpose_json
from server.errors import NotFound
from server.keys import CTX
from server.services import communities, purpose

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


@routes.get(PREFIX + r"/communities/{id}/purpose")
async def current(request: web.Request) -> web.Response:
    """The purpose as it stands."""
    await authenticate(request, "read", required=False)
    community_id = await community_id_of(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        version = await purpose.current(conn, community_id)
    if version is None:
        raise NotFound("this community has no purpose statement here")
    return web.json_response(to_purpose_json(version))


@routes.get(PREFIX + r"/communities/{id}/purpose/history")
async def history(request: web.Request) -> web.Response:
    """Every version of the purpose, newest first."""
    await authenticate(request, "read", required=False)
    community_id = await community_id_of(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        versions = await purpose.history(conn, community_id)
    return web.json_response([to_purpose_json(v) for v in versions])


@routes.post(PREFIX + r"/communities/{id}/purpose")
async def change(request: web.Request) -> web.Response:
    """A manager sets a new version of the purpose, saying why; answers with the new version."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    body = await json_body(request)
    new_text = text(body, "text", required=True, max_len=purpose.MAX_PURPOSE)
    reason = text(body, "reason", required=True, max_len=purpose.MAX_REASON)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
    await purpose.change_purpose(ctx, auth.need_user(), community_id, new_text, reason)
    async with ctx.db.read() as conn:
        version = await purpose.current(conn, community_id)
    assert version is not None
    return web.json_response(to_purpose_json(version), status=201)
