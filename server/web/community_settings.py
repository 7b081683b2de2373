"""``/c/{handle}/settings``: the managers' settings page of a community."""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError
from server.http.pages import flash, form, redirect, render, require_user
from server.keys import CTX
from server.services import communities, community_settings
from server.web.community_scope import Scope, scope
from server.web.forms import field_errors

routes = web.RouteTableDef()
OPENNESS = [
    ("open", "Anyone, at once"),
    ("approval", "Anyone, after a manager approves"),
    ("invite", "Only people a manager adds"),
]
MEMBER_LISTS = [
    ("public", "Everyone"),
    ("instance", "Members of this organisation"),
    ("members", "Members of the community"),
]


async def _manager_scope(request: web.Request) -> tuple[Scope, int]:
    """The community's scope and the manager's actor id (403 for anyone else)."""
    user = await require_user(request)
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
        await communities.require_manager(conn, s.community.id, user.id)
    return s, user.id


async def _page(
    request: web.Request,
    s: Scope,
    values: community_settings.Settings,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return await render(
        request,
        "community_settings.html",
        values=values,
        errors=errors or {},
        status=status,
        openness_choices=OPENNESS,
        member_list_choices=MEMBER_LISTS,
        **s.template_vars(),
    )


@routes.get("/c/{handle}/settings")
async def settings_page(request: web.Request) -> web.Response:
    s, _ = await _manager_scope(request)
    async with request.app[CTX].db.read() as conn:
        values = await community_settings.current(conn, s.community.id)
    return await _page(request, s, values)


@routes.post("/c/{handle}/settings")
async def settings_submit(request: web.Request) -> web.Response:
    s, manager_id = await _manager_scope(request)
    data = await form(request)
    values = community_settings.Settings(
        name=str(data.get("name", "")),
        description=str(data.get("description", "")),
        openness=str(data.get("openness", "")),
        member_list_visibility=str(data.get("member_list_visibility", "")),
        accept_outside_ideas=data.get("accept_outside_ideas") == "on",
    )
    try:
        await community_settings.update(request.app[CTX], manager_id, s.community.id, values)
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _page(request, s, values, errors=field_errors(exc) or {}, status=exc.status)
    flash(request, "The community's settings are saved.")
    raise redirect(f"/c/{s.community.handle}/settings")
