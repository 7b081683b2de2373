"""Pages a visitor expects: ``/about`` (the organisation) and ``/explore`` (what to discover)."""

from __future__ import annotations

from aiohttp import web

from server.http.pages import render, viewer
from server.keys import CTX
from server.services import explore

routes = web.RouteTableDef()


@routes.get("/about")
async def about_page(request: web.Request) -> web.Response:
    """The organisation: who it is, its purpose, how to reach it, its rules and partners."""
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        found = await explore.about(conn, base=ctx.base, local_domain=ctx.settings.domain)
    return await render(request, "about.html", about=found)


@routes.get("/explore")
async def explore_page(request: web.Request) -> web.Response:
    """Public communities, people, results and posts, for visitors and members alike."""
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        found = await explore.discover(conn, who, base=ctx.base, local_domain=ctx.settings.domain)
    return await render(request, "explore.html", found=found)
