"""The front page (the organisation, its communities, recent public results) and the home feed."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from server.http.pages import render, require_user, viewer
from server.http.params import as_id
from server.keys import CTX
from server.services import accounts, matching, timelines
from server.services.views import actor_view, load_posts
from server.storage import schema as t

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
    async with ctx.db.read() as conn:
        communities = list(
            await conn.execute(
                sa.select(
                    t.communities, t.actors.c.username.label("handle"), t.actors.c.summary_html
                )
                .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
                .where(t.communities.c.local.is_(True))
                .order_by(t.communities.c.name)
            )
        )
        purposes = {
            r.community_id: r.text_html
            for r in await conn.execute(
                sa.select(t.purpose_versions.c.community_id, t.purpose_versions.c.text_html).where(
                    t.purpose_versions.c.id.in_(
                        sa.select(sa.func.max(t.purpose_versions.c.id)).group_by(
                            t.purpose_versions.c.community_id
                        )
                    )
                )
            )
        }
        ids = await timelines.results(conn, who, timelines.Page(limit=10))
        results = await load_posts(conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain)
    return await render(
        request, "front.html", communities=communities, purposes=purposes, results=results
    )


@routes.get("/home")
async def home_feed(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    who = await viewer(request)
    page = page_from_query(request)
    async with ctx.db.read() as conn:
        ids = await timelines.home(conn, who, page)
        posts = await load_posts(conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain)
        sharing = await accounts.people_sharing_competencies(conn, user.id, limit=5)
        suggested = await matching.suggested_communities(conn, user.id)
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
    )
