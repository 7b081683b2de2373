"""Koers API: initiatives (start one, list them) and role terms (set a role's term, renew a holding).

An initiative is a roadmap item led by the member who started it (``services.initiatives``); reads
go through ``visibility.items_visible_to``. Term rules live in ``services.role_terms``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import choice, json_body, optional_id, path_id, text
from server.api.koers.roadmap import AUDIENCES, _item_response
from server.api.koers.serialize import iso, to_item_json
from server.errors import ValidationError
from server.keys import CTX
from server.services import communities, initiatives, roadmap, role_terms

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


def _initiative_json(i: initiatives.Initiative) -> dict[str, Any]:
    return {**to_item_json(i.item), "lead": i.lead_username, "participants_count": i.participants}


@routes.get(PREFIX + r"/communities/{id}/initiatives")
async def list_initiatives(request: web.Request) -> web.Response:
    """The open initiatives the caller may see, newest first, with their leads."""
    auth = await authenticate(request, "read", required=False)
    community_id = path_id(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        found = await initiatives.of_community(conn, auth.viewer, community_id)
    return web.json_response([_initiative_json(i) for i in found])


@routes.post(PREFIX + r"/communities/{id}/initiatives")
async def start_initiative(request: web.Request) -> web.Response:
    """A member starts an initiative and becomes its informal lead (a roadmap item in status idea)."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    body = await json_body(request)
    title = text(body, "title", required=True, max_len=roadmap.MAX_TITLE)
    description = text(body, "description", max_len=roadmap.MAX_DESCRIPTION)
    audience = choice(body, "audience", AUDIENCES, default="public")
    item_id = await initiatives.start(
        request.app[CTX],
        auth.need_user(),
        community_id,
        title=title,
        description=description,
        audience=audience or "public",
    )
    return await _item_response(request, community_id, item_id, status=201)


@routes.post(PREFIX + r"/roles/{id}/term")
async def set_term(request: web.Request) -> web.Response:
    """A manager sets a role's term in days (``null`` clears it)."""
    auth = await user_auth(request, "write")
    role_id = path_id(request)
    body = await json_body(request)
    if "term_days" not in body:
        raise ValidationError("term_days: a number of days, or null", field="term_days")
    raw = body["term_days"]
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise ValidationError("term_days: a whole number of days, or null", field="term_days")
    days = await role_terms.set_term(request.app[CTX], auth.need_user(), role_id, raw)
    return web.json_response({"role_id": str(role_id), "term_days": days})


@routes.post(PREFIX + r"/roles/{id}/renew")
async def renew(request: web.Request) -> web.Response:
    """Renew a holding for a new term (managers; holders of an open role for themselves)."""
    auth = await user_auth(request, "write")
    role_id = path_id(request)
    me = auth.need_user()
    holder = optional_id(await json_body(request), "account_id") or me
    ends_at = await role_terms.renew(request.app[CTX], me, role_id, holder)
    return web.json_response(
        {"role_id": str(role_id), "account_id": str(holder), "ends_at": iso(ends_at)}
    )
