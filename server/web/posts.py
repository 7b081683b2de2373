"""Post pages with their thread, edits and their history, delete, boost and like; tag pages.

Whether a post shows is decided by the visibility module only: a post the viewer may not see is a
404 (as if it did not exist), a deleted one a 410.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import Gone, KoersError, NotFound
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.keys import CTX
from server.services import posts, timelines
from server.services.views import PostView, load_posts
from server.storage import schema as t
from server.visibility import Viewer, can_boost, can_see_post
from server.web.home import page_from_query

routes = web.RouteTableDef()

POST_PATH = r"/@{username:[A-Za-z0-9_]+}/{post_id:\d+}"


async def visible_post(
    conn: AsyncConnection, ctx: Context, who: Viewer, post_id: int, username: str | None
) -> PostView:
    """The post as ``who`` may see it: NotFound when hidden or unknown, Gone when deleted."""
    row = (
        await conn.execute(
            sa.select(
                t.posts.c.id,
                t.posts.c.deleted_at,
                t.posts.c.reblog_of_id,
                t.actors.c.username,
                t.actors.c.domain,
            )
            .join(t.actors, t.actors.c.id == t.posts.c.author_id)
            .where(t.posts.c.id == post_id)
        )
    ).first()
    if (
        row is None
        or row.domain is not None
        or (username is not None and row.username != username.lower())
    ):
        raise NotFound("no such post")
    if row.deleted_at is not None:
        raise Gone("this post has been deleted")
    if row.reblog_of_id is not None or not await can_see_post(conn, who, post_id):
        raise NotFound("no such post")
    views = await load_posts(conn, who, [post_id], base=ctx.base, local_domain=ctx.settings.domain)
    if not views:
        raise NotFound("no such post")
    return views[0]


@routes.get(POST_PATH)
async def post_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    post_id = int(request.match_info["post_id"])
    async with ctx.db.read() as conn:
        post = await visible_post(conn, ctx, who, post_id, request.match_info["username"])
        ancestor_ids, descendant_ids = await timelines.thread(conn, who, post_id)
        ancestors = await load_posts(
            conn, who, ancestor_ids, base=ctx.base, local_domain=ctx.settings.domain
        )
        replies = await load_posts(
            conn, who, descendant_ids, base=ctx.base, local_domain=ctx.settings.domain
        )
    return await render(
        request,
        "post.html",
        post=post,
        ancestors=ancestors,
        replies=replies,
        boostable=can_boost(post.audience),
        reply_token=secrets.token_urlsafe(18),
    )


@routes.get(r"/posts/{post_id:\d+}")
async def post_by_id(request: web.Request) -> web.Response:
    """A short link to a post: redirects to its canonical page when the viewer may see it."""
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        post = await visible_post(conn, ctx, who, int(request.match_info["post_id"]), None)
    raise redirect(post.url if post.local else f"/@{post.author.username}/{post.id}")


_ACTIONS = {
    "boost": posts.reblog,
    "unboost": posts.unreblog,
    "like": posts.favourite,
    "unlike": posts.unfavourite,
}


async def _posted_action(request: web.Request):  # type: ignore[no-untyped-def]
    """(member, post id) of a POSTed post button, after the CSRF check and a visibility check."""
    ctx = request.app[CTX]
    user = await require_user(request)
    await form(request)
    post_id = int(request.match_info["post_id"])
    async with ctx.db.read() as conn:
        await visible_post(
            conn, ctx, await viewer(request), post_id, request.match_info["username"]
        )
    return user, post_id


@routes.post(POST_PATH + "/{action:boost|unboost|like|unlike}")
async def post_action(request: web.Request) -> web.Response:
    """Boost, like, or undo either; then back to the post."""
    user, post_id = await _posted_action(request)
    await _ACTIONS[request.match_info["action"]](request.app[CTX], user.id, post_id)
    raise redirect(f"/@{request.match_info['username']}/{post_id}")


@routes.post(POST_PATH + "/delete")
async def delete(request: web.Request) -> web.Response:
    user, post_id = await _posted_action(request)
    await posts.delete_post(request.app[CTX], user.id, post_id)
    flash(request, "The post is deleted.")
    raise redirect(f"/@{user.username}")


async def _own_visible(request: web.Request):  # type: ignore[no-untyped-def]
    ctx = request.app[CTX]
    user = await require_user(request)
    async with ctx.db.read() as conn:
        post = await visible_post(
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
            errors={exc.field or "status": exc.message},
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
        post = await visible_post(conn, ctx, who, post_id, request.match_info["username"])
        versions = list(
            await conn.execute(
                sa.select(t.post_edits)
                .where(t.post_edits.c.post_id == post_id)
                .order_by(t.post_edits.c.id.desc())
            )
        )
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
