"""Profile pages (``/@user``), follower and following lists, follow buttons and the people finder."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import NotFound, ValidationError
from server.http.pages import flash, form, redirect, render, require_user, unread_in, viewer
from server.http.params import as_id
from server.i18n.messages import Message
from server.keys import CTX
from server.services import accounts, directory, follows, people, timelines
from server.services.post_cache import load_posts
from server.services.views import ActorView, actor_view
from server.web.home import page_from_query

routes = web.RouteTableDef()

LIST_PAGE = 40


async def person_or_redirect(conn: AsyncConnection, ctx: Context, username: str) -> Row:
    """The local person called ``username``; a community handle redirects to its page, else 404."""
    row = await accounts.get_local_actor(conn, username)
    if row.kind == "group":
        raise web.HTTPFound(f"/c/{row.username}")
    if row.kind != "person":
        raise NotFound(Message("no account called %(username)s here", username=repr(username)))
    return row


@routes.get(r"/@{username:[A-Za-z0-9_]+}")
async def profile_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    page = page_from_query(request)

    async def load(conn: AsyncConnection) -> tuple[dict, list[int]]:
        # one unit of work: every statement of the page in one hop (``db.read`` runs it inline)
        row = await person_or_redirect(conn, ctx, request.match_info["username"])
        ids = await timelines.profile(conn, who, row.id, page, exclude_results=True)
        result_ids = await timelines.profile(
            conn, who, row.id, timelines.Page(limit=5), only_results=True
        )
        loaded = {
            p.id: p
            for p in await load_posts(
                conn, who, [*ids, *result_ids], base=ctx.base, local_domain=ctx.settings.domain
            )
        }  # one load for both lists
        relation = await follows.relationship(conn, who.actor_id, row.id) if who.actor_id else None
        context = {
            "actor": actor_view(row, ctx.base, ctx.settings.domain),
            "competencies": await accounts.competencies_of(conn, row.id),
            "roles": await people.roles_held(conn, row.id),
            "followers_count": await people.count_followers(conn, row.id),
            "following_count": await people.count_following(conn, who, row.id),
            "posts": [loaded[i] for i in ids if i in loaded],
            "results": [loaded[i] for i in result_ids if i in loaded],
            "relation": relation,
            "is_me": who.actor_id == row.id,
            **await unread_in(conn, who),
        }
        return context, ids

    context, ids = await ctx.db.read(load)
    limit = page.clamp().limit
    username = context["actor"].username
    next_url = f"/@{username}?max_id={ids[-1]}" if len(ids) == limit else None
    return await render(request, "profile.html", next_url=next_url, **context)


async def _actor_list(request: web.Request, which: str) -> web.Response:
    ctx = request.app[CTX]
    offset = min(as_id(request.query.get("offset")) or 0, 1_000_000)
    who = await viewer(request)
    async with ctx.db.read() as conn:
        row = await person_or_redirect(conn, ctx, request.match_info["username"])
        rows = await people.list_follows(conn, who, row.id, which, offset, LIST_PAGE + 1)
    shown = [actor_view(r, ctx.base, ctx.settings.domain) for r in rows[:LIST_PAGE]]
    next_url = (
        f"/@{row.username}/{which}?offset={offset + LIST_PAGE}" if len(rows) > LIST_PAGE else None
    )
    return await render(
        request,
        "people_list.html",
        actor=actor_view(row, ctx.base, ctx.settings.domain),
        which=which,
        people=shown,
        next_url=next_url,
    )


@routes.get(r"/@{username:[A-Za-z0-9_]+}/followers")
async def followers_page(request: web.Request) -> web.Response:
    return await _actor_list(request, "followers")


@routes.get(r"/@{username:[A-Za-z0-9_]+}/following")
async def following_page(request: web.Request) -> web.Response:
    return await _actor_list(request, "following")


@routes.post(r"/@{username:[A-Za-z0-9_]+}/{action:follow|unfollow}")
async def follow_submit(request: web.Request) -> web.Response:
    """The follow / unfollow button of a profile."""
    ctx = request.app[CTX]
    user = await require_user(request)
    await form(request)
    async with ctx.db.read() as conn:
        row = await person_or_redirect(conn, ctx, request.match_info["username"])
    if request.match_info["action"] == "unfollow":
        await follows.unfollow(ctx, user.id, row.id)
        flash(request, Message("You no longer follow @%(username)s.", username=row.username))
    elif await follows.follow(ctx, user.id, row.id) == "accepted":
        flash(request, Message("You follow @%(username)s now.", username=row.username))
    else:
        flash(request, Message("Follow request sent to @%(username)s.", username=row.username))
    raise redirect(f"/@{row.username}")


def people_views(ctx: Context, rows: list[Row]) -> list[tuple[ActorView, Row]]:
    """ActorViews with the row they came from (for extra columns like the matching competency)."""
    return [(actor_view(r, ctx.base, ctx.settings.domain), r) for r in rows]


@routes.get("/people")
async def people_page(request: web.Request) -> web.Response:
    """The member directory: by name, competency (and level), community, role, organisation."""
    ctx = request.app[CTX]
    who = await viewer(request)
    query = directory_query(request)
    async with ctx.db.read() as conn:
        rows, more = await directory.find(conn, who, query)
        offered = await directory.choices(conn, who)
    return await render(
        request,
        "people.html",
        q=query,
        competency=query.competency,
        people=people_views(ctx, rows),
        more=more,
        choices=offered,
        levels=directory.LEVELS,
        next_page=_page_link(request, query.page + 1) if more else None,
        prev_page=_page_link(request, query.page - 1) if query.page > 1 else None,
    )


def directory_query(request: web.Request) -> directory.DirectoryQuery:
    """The directory's filters from the query string (bad numbers are a 400)."""
    args = request.query

    def number(name: str) -> int | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise ValidationError(Message("%(field)s: must be a number", field=name), field=name)
        return int(raw)

    return directory.DirectoryQuery(
        name=args.get("q", "")[:100],
        competency=args.get("competency", "")[:100],
        level=args.get("level", ""),
        community_id=number("community"),
        role_id=number("role"),
        organisation=args.get("organisation", "")[:255],
        page=number("page") or 1,
    ).checked()


def _page_link(request: web.Request, page: int) -> str:
    query = {k: v for k, v in request.query.items() if k != "page" and v}
    query["page"] = str(page)
    return str(request.rel_url.with_query(query))
