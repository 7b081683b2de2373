"""Initiative pages: the "Start an initiative" form (any member becomes the informal lead).

An initiative is a roadmap item (``services.initiatives``); its own page is the item page, where
others join it by supporting it. The community page lists the open initiatives with their leads.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import KoersError
from server.http.pages import flash, form, redirect, render, require_user
from server.keys import CTX
from server.services import initiatives
from server.web.community_scope import scope
from server.web.forms import field_errors
from server.web.roadmap import ITEM_AUDIENCE_OPTIONS

routes = web.RouteTableDef()
FIELDS = ("title", "description", "audience")


async def _form_page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    await require_user(request)
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
    extra.setdefault("values", {"audience": "public"})
    extra.setdefault("errors", {})
    return await render(
        request,
        "initiative_new.html",
        status=status,
        audience_options=ITEM_AUDIENCE_OPTIONS,
        **s.template_vars(),
        **extra,
    )


@routes.get("/c/{handle}/initiatives/new")
async def new_initiative_page(request: web.Request) -> web.Response:
    return await _form_page(request)


@routes.post("/c/{handle}/initiatives/new")
async def new_initiative_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in FIELDS}
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        item_id = await initiatives.start(
            ctx,
            user.id,
            s.community.id,
            title=values["title"],
            description=values["description"],
            audience=values["audience"] or "public",
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _form_page(
            request, status=exc.status, values=values, errors=field_errors(exc) or {}
        )
    flash(
        request,
        "Your initiative is started: you are its informal lead. Others can join it from its page.",
    )
    raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}")
