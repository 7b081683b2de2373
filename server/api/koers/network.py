"""Koers API: networks of like-minded people — who can help with a role, and suggestions of people
and communities that share your competencies."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import path_id
from server.api.koers.serialize import row_account_json
from server.errors import NotFound
from server.keys import CTX
from server.services import accounts, matching
from server.services.matching import Helper

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


def _helper_json(h: Helper) -> dict[str, Any]:
    return {
        "account_id": str(h.actor_id),
        "acct": h.handle,
        "display_name": h.name,
        "url": h.url,
        "member": h.is_member,
        "score": h.score,
        "competencies": [{"name": n, "level": lvl} for n, lvl in h.matched],
    }


@routes.get(PREFIX + r"/roles/{id}/helpers")
async def role_helpers(request: web.Request) -> web.Response:
    """People whose competencies match what the role needs (members first when visible)."""
    auth = await authenticate(request, "read", required=False)
    role_id = path_id(request)
    async with request.app[CTX].db.read() as conn:
        community_id = await matching.community_of_role(conn, role_id)
        if community_id is None:
            raise NotFound("no such role")
        needs = await matching.role_needs(conn, role_id)
        helpers = await matching.who_can_help(conn, auth.viewer, community_id, needs)
    return web.json_response([_helper_json(h) for h in helpers])


@routes.get(PREFIX + "/suggestions")
async def suggestions(request: web.Request) -> web.Response:
    """People who share your competencies, and communities that could use them."""
    auth = await user_auth(request, "read")
    me = auth.need_user()
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        people = await accounts.people_sharing_competencies(conn, me, limit=10)
        communities = await matching.suggested_communities(conn, me, limit=10)
    return web.json_response(
        {
            "people": [
                {**row_account_json(r, ctx.base, ctx.settings.domain), "shared": int(r.shared)}
                for r in people
            ],
            "communities": [
                {
                    "id": str(c.id),
                    "name": c.name,
                    "handle": c.handle if c.domain is None else f"{c.handle}@{c.domain}",
                    "score": int(c.score),
                }
                for c in communities
            ],
        }
    )
