"""``/search``: people, communities, posts, results and hashtags in one page; ``/feed``: the
organisation feed (everything of this instance the viewer may see, newest first).

Every hit comes through a service that asks ``server/visibility.py``. A handle (``@name@host``,
``acct:name@host``) or an address is resolved as the Mastodon API search does — fetched from its
server when unknown, for signed-in members only (a visitor's search never makes this server fetch).
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.activitypub.core.lookup import lookup, parse_handle
from server.errors import ValidationError
from server.http.pages import current_user, render, viewer
from server.i18n.messages import Message
from server.keys import CTX
from server.services import search as finder
from server.services import timelines
from server.services.remote_communities import page_path
from server.services.timelines import Page
from server.services.views import ActorView, load_actors, load_posts
from server.visibility import can_see_post
from server.web.home import page_from_query

routes = web.RouteTableDef()
MAX_QUERY = 200
PER_KIND = 10
POSTS_PER_PAGE = 2 * PER_KIND  # posts and results together, newest first


def _in_order(found: dict[int, ActorView], ids: list[int]) -> list[ActorView]:
    return [found[i] for i in ids if i in found]


@routes.get("/search")
async def search_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    q = request.query.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise ValidationError(Message("q: at most %(num)s characters", num=MAX_QUERY), field="q")
    who = await viewer(request)
    user = await current_user(request)
    # ?max_id=: the next page of posts and results (older than that id), nothing else
    older_than = page_from_query(request).max_id
    resolved_actor = resolved_post = None
    if q and user is not None and (parse_handle(q) or q.startswith(("http://", "https://"))):
        found = await lookup(request.app, q, as_actor=user.id)
        if found is not None:
            resolved_actor = found.id if found.kind == "actor" else None
            resolved_post = found.id if found.kind == "post" else None

    async def load(conn: AsyncConnection) -> dict:
        if not q:
            return {}
        if older_than is not None:
            post_ids = await timelines.search_posts(
                conn, who, q, Page(max_id=older_than, limit=POSTS_PER_PAGE)
            )
            return await _posts_and_results(conn, post_ids)
        actor_ids = await finder.find_accounts(conn, ctx, q, limit=PER_KIND)
        if resolved_actor is not None and resolved_actor not in actor_ids:
            actor_ids.insert(0, resolved_actor)
        if q.startswith(("http://", "https://")):
            post_ids = await finder.statuses_by_url(conn, who, q)
            if not post_ids and resolved_post and await can_see_post(conn, who, resolved_post):
                post_ids = [resolved_post]
        else:
            post_ids = await timelines.search_posts(conn, who, q, Page(limit=POSTS_PER_PAGE))
        return {
            **await _posts_and_results(conn, post_ids),
            "people": _in_order(
                await load_actors(
                    conn, set(actor_ids[:PER_KIND]), base=ctx.base, local_domain=ctx.settings.domain
                ),
                actor_ids[:PER_KIND],
            ),
            "communities": [
                (row, page_path(row.handle, row.domain))
                for row in await finder.find_communities(conn, q, limit=PER_KIND)
            ],
            "tags": await finder.find_tags(conn, q.lstrip("#").lower(), limit=PER_KIND, offset=0),
        }

    async def _posts_and_results(conn: AsyncConnection, post_ids: list[int]) -> dict:
        found = await load_posts(
            conn, who, post_ids, base=ctx.base, local_domain=ctx.settings.domain
        )
        # a full page of full-text hits: there may be older ones
        more = len(post_ids) == POSTS_PER_PAGE and not q.startswith(("http://", "https://"))
        return {
            "results": [p for p in found if p.kind == "result"],
            "posts": [p for p in found if p.kind != "result"],
            "older": f"/search?{urlencode({'q': q, 'max_id': post_ids[-1]})}" if more else None,
        }

    hits = await ctx.db.read(load)
    return await render(
        request,
        "search.html",
        q=q,
        hits=hits,
        signed_in=user is not None,
        older_page=older_than is not None,
    )


@routes.get("/feed")
async def organisation_feed(request: web.Request) -> web.Response:
    """This instance's posts the viewer may see, newest first (Mastodon's local timeline)."""
    ctx = request.app[CTX]
    who = await viewer(request)
    page = page_from_query(request)

    async def load(conn: AsyncConnection) -> tuple[list[int], list]:
        ids = await timelines.organisation(conn, who, page)
        return ids, await load_posts(
            conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain
        )

    ids, posts = await ctx.db.read(load)
    next_url = f"/feed?max_id={ids[-1]}" if len(ids) == page.clamp().limit else None
    return await render(request, "organisation_feed.html", posts=posts, next_url=next_url)
