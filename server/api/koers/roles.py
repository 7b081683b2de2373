"""Koers API: roles — list a community's roles; claim, release, assign and unassign them.

The fill-mode rules (open / approval / assigned) and who may assign live in ``services.roles``.
"""

from __future__ import annotations

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import json_body, path_id, required_id
from server.api.koers.serialize import to_role_json
from server.keys import CTX
from server.services import communities, roles

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


@routes.get(PREFIX + r"/communities/{id}/roles")
async def list_roles(request: web.Request) -> web.Response:
    """A community's roles with holders, requests and required competencies."""
    await authenticate(request, "read", required=False)
    community_id = path_id(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
        found = await roles.roles_of(conn, community_id)
    return web.json_response([to_role_json(r, ctx.base, ctx.settings.domain) for r in found])


def _state(role_id: int, state: str | None, account_id: int) -> web.Response:
    return web.json_response(
        {"role_id": str(role_id), "account_id": str(account_id), "state": state}
    )


@routes.post(PREFIX + r"/roles/{id}/claim")
async def claim(request: web.Request) -> web.Response:
    """Take an open role (``held``) or ask for one filled by approval (``requested``)."""
    auth = await user_auth(request, "write")
    role_id = path_id(request)
    me = auth.need_user()
    state = await roles.claim_role(request.app[CTX], me, role_id)
    return _state(role_id, state, me)


@routes.post(PREFIX + r"/roles/{id}/release")
async def release(request: web.Request) -> web.Response:
    """Give a role up, or withdraw a request for it."""
    auth = await user_auth(request, "write")
    role_id = path_id(request)
    me = auth.need_user()
    await roles.release_role(request.app[CTX], me, role_id)
    return _state(role_id, None, me)


@routes.post(PREFIX + r"/roles/{id}/assign")
async def assign(request: web.Request) -> web.Response:
    """A manager gives a member the role (this also approves a request)."""
    auth = await user_auth(request, "write")
    role_id = path_id(request)
    account_id = required_id(await json_body(request), "account_id")
    await roles.assign_role(request.app[CTX], auth.need_user(), role_id, account_id)
    return _state(role_id, "held", account_id)


@routes.post(PREFIX + r"/roles/{id}/unassign")
async def unassign(request: web.Request) -> web.Response:
    """A manager takes the role away from someone (or denies a request)."""
    auth = await user_auth(request, "write")
    role_id = path_id(request)
    account_id = required_id(await json_body(request), "account_id")
    await roles.unassign_role(request.app[CTX], auth.need_user(), role_id, account_id)
    return _state(role_id, None, account_id)
