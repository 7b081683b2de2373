"""Pages a visitor expects: ``/about`` (the organisation) and ``/explore`` (what to discover)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.http.pages import render, unread_in, viewer
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

    async def load(conn: AsyncConnection) -> tuple[explore.Discoveries, dict[str, int]]:
        # one unit of work: the discoveries and the navigation's unread count in one hop
        found = await explore.discover(conn, who, base=ctx.base, local_domain=ctx.settings.domain)
        return found, await unread_in(conn, who)

    found, unread = await ctx.db.read(load)
    return await render(request, "explore.html", found=found, **unread)
