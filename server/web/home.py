"""The front page (the organisation, its communities, recent public results) and the home feed."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.http.pages import render, require_user, unread_in, viewer
from server.http.params import as_id
from server.keys import CTX
from server.services import accounts, community_lists, matching, timelines
from server.services.post_cache import load_posts
from server.services.views import PostView, actor_view
from server.web.compose import options_for

routes = web.RouteTableDef()


def page_from_query(request: web.Request, limit: int = 20) -> timelines.Page:
    def as_int(name: str) -> int | None:
        value = request.query.get(name, "")
        return as_id(value)

    return timelines.Page(
        max_id=as_int("max_id"), since_id=as_int("since_id"), min_id=as_int("min_id"), limit=limit
    )


@routes.get("/")
async def front_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)

    async def load(conn: AsyncConnection) -> tuple[list, dict, list[PostView]]:
        communities = await community_lists.local_communities(conn)
        purposes = await community_lists.purposes_in_force(conn)
        ids = await timelines.results(conn, who, timelines.Page(limit=10))
        results = await load_posts(conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain)
        return list(communities), purposes, results

    communities, purposes, results = await ctx.db.read(load)
    return await render(
        request, "front.html", communities=communities, purposes=purposes, results=results
    )


@routes.get("/home")
async def home_feed(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    who = await viewer(request)
    page = page_from_query(request)

    async def load(conn: AsyncConnection) -> tuple[list[int], list[PostView], list, list, Any]:
        # one unit of work: the feed, its posts, the suggestions, the compose form's communities
        # and the navigation's unread count in one hop
        ids = await timelines.home(conn, who, page)
        posts = await load_posts(conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain)
        sharing = await accounts.people_sharing_competencies(conn, user.id, limit=5)
        suggested = await matching.suggested_communities(conn, user.id)
        joined = await community_lists.joined(conn, user.id)
        return ids, posts, list(sharing), list(suggested), (joined, await unread_in(conn, who))

    ids, posts, sharing, suggested, (joined, unread) = await ctx.db.read(load)
    options = options_for(user, joined)
    similar = [(actor_view(r, ctx.base, ctx.settings.domain), r.shared) for r in sharing]
    next_url = f"/home?max_id={ids[-1]}" if len(ids) == page.clamp().limit else None
    return await render(
        request,
        "home.html",
        posts=posts,
        next_url=next_url,
        user=user,
        similar=similar,
        suggested=suggested,
        compose=options,
        **unread,
    )
