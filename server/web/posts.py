"""Post pages with their thread, edits and their history, delete, boost and like; tag pages.

Whether a post shows is decided by the visibility module only: a post the viewer may not see is a
404 (as if it did not exist), a deleted one a 410.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import KoersError, NotFound
from server.http.pages import (
    current_user,
    flash,
    form,
    redirect,
    render,
    require_user,
    unread_in,
    viewer,
)
from server.keys import CTX
from server.services import community_lists, post_pages, posts, timelines
from server.services.post_cache import load_posts
from server.services.views import PostView
from server.visibility import can_boost
from server.web.cards import CARD_HEADER, safe_back
from server.web.compose import options_for
from server.web.forms import field_errors
from server.web.home import page_from_query

routes = web.RouteTableDef()

POST_PATH = r"/@{username:[A-Za-z0-9_]+}/{post_id:\d+}"


@routes.get(POST_PATH)
async def post_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    post_id = int(request.match_info["post_id"])

    user = await current_user(
        request
    )  # before the unit, which may await nothing but its statements

    async def load(conn: AsyncConnection) -> tuple[PostView, list[PostView], list[PostView], Any]:
        # one unit of work: the post, its thread and their views, the reply form's communities
        # and the navigation's unread count in one hop
        post = await post_pages.visible_post(
            conn, ctx, who, post_id, request.match_info["username"]
        )
        ancestor_ids, descendant_ids = await timelines.thread(conn, who, post_id)
        loaded = {
            p.id: p
            for p in await load_posts(
                conn,
                who,
                [*ancestor_ids, *descendant_ids],
                base=ctx.base,
                local_domain=ctx.settings.domain,
            )
        }  # one load for both lists
        ancestors = [loaded[i] for i in ancestor_ids if i in loaded]
        joined = await community_lists.joined(conn, user.id) if user is not None else None
        extra = (joined, await unread_in(conn, who))
        return post, ancestors, [loaded[i] for i in descendant_ids if i in loaded], extra

    post, ancestors, replies, (joined, unread) = await ctx.db.read(load)
    return await render(
        request,
        "post.html",
        post=post,
        ancestors=ancestors,
        replies=replies,
        boostable=can_boost(post.audience),
        compose=options_for(user, joined) if user is not None and joined is not None else None,
        **unread,
    )


@routes.get(r"/posts/{post_id:\d+}")
async def post_by_id(request: web.Request) -> web.Response:
    """A short link to a post: redirects to its canonical page when the viewer may see it."""
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        post = await post_pages.visible_post(
            conn, ctx, who, int(request.match_info["post_id"]), None
        )
    raise redirect(post.url if post.local else f"/@{post.author.username}/{post.id}")


_ACTIONS = {
    "boost": posts.reblog,
    "unboost": posts.unreblog,
    "like": posts.favourite,
    "unlike": posts.unfavourite,
}


async def _posted_action(request: web.Request):
    """(member, post id) of a POSTed post button, after the CSRF check and a visibility check."""
    ctx = request.app[CTX]
    user = await require_user(request)
    await form(request)
    post_id = int(request.match_info["post_id"])
    async with ctx.db.read() as conn:
        await post_pages.visible_post(
            conn, ctx, await viewer(request), post_id, request.match_info["username"]
        )
    return user, post_id


@routes.post(POST_PATH + "/{action:boost|unboost|like|unlike}")
async def post_action(request: web.Request) -> web.Response:
    """Boost, like, or undo either; then back to where the button was (a feed card carries its
    place in ``back``), or, when a script asked for the card, the card as it is now."""
    ctx = request.app[CTX]
    user, post_id = await _posted_action(request)
    await _ACTIONS[request.match_info["action"]](ctx, user.id, post_id)
    own_page = f"/@{request.match_info['username']}/{post_id}"
    back = safe_back(str((await request.post()).get("back") or ""), own_page)
    if request.headers.get(CARD_HEADER) == "1":
        async with ctx.db.read() as conn:
            post = await post_pages.visible_post(
                conn, ctx, await viewer(request), post_id, request.match_info["username"]
            )
        return await render(request, "_card.html", post=post, card_back=back)
    raise redirect(back)


@routes.post(POST_PATH + "/delete")
async def delete(request: web.Request) -> web.Response:
    user, post_id = await _posted_action(request)
    await posts.delete_post(request.app[CTX], user.id, post_id)
    flash(request, "The post is deleted.")
    raise redirect(f"/@{user.username}")


async def _own_visible(request: web.Request):
    ctx = request.app[CTX]
    user = await require_user(request)
    async with ctx.db.read() as conn:
        post = await post_pages.visible_post(
            conn,
            ctx,
            await viewer(request),
            int(request.match_info["post_id"]),
            request.match_info["username"],
        )
    if post.author.id != user.id:
        raise NotFound("no such post of yours")
    return user, post


@routes.get(POST_PATH + "/edit")
async def edit_page(request: web.Request) -> web.Response:
    _, post = await _own_visible(request)
    values = {"status": post.source, "spoiler_text": post.spoiler_text}
    return await render(request, "post_edit.html", post=post, values=values, errors={})


@routes.post(POST_PATH + "/edit")
async def edit_submit(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user, post = await _own_visible(request)
    data = await form(request)
    values = {
        "status": str(data.get("status", "")),
        "spoiler_text": str(data.get("spoiler_text", "")),
    }
    try:
        await posts.edit_post(
            ctx, user.id, post.id, source=values["status"], spoiler_text=values["spoiler_text"]
        )
    except KoersError as exc:
        return await render(
            request,
            "post_edit.html",
            post=post,
            values=values,
            errors=field_errors(exc) or {"status": exc.message},
            status=exc.status,
        )
    flash(request, "Your changes are saved; the earlier version stays in the post's history.")
    raise redirect(f"/@{user.username}/{post.id}")


@routes.get(POST_PATH + "/history")
async def history_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    post_id = int(request.match_info["post_id"])
    async with ctx.db.read() as conn:
        post = await post_pages.visible_post(
            conn, ctx, who, post_id, request.match_info["username"]
        )
        versions = await post_pages.edits_of(conn, post_id, newest_first=True)
    return await render(request, "post_history.html", post=post, versions=versions)


@routes.get("/tags/{tag}")
async def tag_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    tag = request.match_info["tag"].strip().lstrip("#").lower()[:100]
    page = page_from_query(request)
    async with ctx.db.read() as conn:
        ids = await timelines.tag(conn, who, tag, page)
        found = await load_posts(conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain)
    next_url = f"/tags/{quote(tag)}?max_id={ids[-1]}" if len(ids) == page.clamp().limit else None
    return await render(request, "tag.html", tag=tag, posts=found, next_url=next_url)
