"""``/api/v1/statuses``: post, read, edit, delete, and act on statuses (favourite, boost, bookmark …).

Visibility: Mastodon's four values map to Koers audiences (``private`` is ``followers``); ``local``
(Akkoma) and ``local_only=true`` (GoToSocial) mean ``members``; ``community`` (with
``community_id``) and ``partners`` are accepted as extra values. Without one, the member's default
audience applies; mentioning a community addresses the post to it (``posts.create_post``).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.api import params
from server.api.auth import authenticate, user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.present import accounts_by_id, statuses_json
from server.api.scheduled_statuses import parse_time, scheduled_json
from server.errors import NotFound, ValidationError
from server.services import (
    account_lists,
    conversations,
    idempotency,
    marked_posts,
    post_pages,
    posts,
    scheduled,
    timelines,
)
from server.services.posts import Draft, PollSpec
from server.visibility import Audience, Viewer, can_see_post

routes = web.RouteTableDef()
ID = r"{id:\d+}"
VISIBILITY = {
    "public": Audience.PUBLIC,
    "unlisted": Audience.UNLISTED,
    "private": Audience.FOLLOWERS,
    "followers": Audience.FOLLOWERS,
    "direct": Audience.DIRECT,
    "local": Audience.MEMBERS,
    "members": Audience.MEMBERS,
    "community": Audience.COMMUNITY,
    "partners": Audience.PARTNERS,
}


def parse_audience(p: params.Params) -> Audience | None:
    """The requested audience, or None for "the member's default"."""
    value = p.str("visibility")
    if p.bool("local_only"):
        return Audience.MEMBERS
    if value is None or value == "":
        return Audience.COMMUNITY if p.id("community_id") is not None else None
    if value not in VISIBILITY:
        raise ValidationError(f"visibility: one of {', '.join(VISIBILITY)}", field="visibility")
    return VISIBILITY[value]


def parse_poll(p: params.Params) -> PollSpec | None:
    options = p.list("poll[options]")
    if not options and "poll[expires_in]" not in p:
        return None
    expires_in = p.int("poll[expires_in]")
    if expires_in is None:
        raise ValidationError("poll[expires_in]: required", field="poll")
    return PollSpec(
        tuple(options),
        expires_in,
        bool(p.bool("poll[multiple]", False)),
        bool(p.bool("poll[hide_totals]", False)),
    )


async def status_json(
    request: web.Request, viewer: Viewer, post_id: int, *, own_new: bool = False
) -> dict:
    """One status as ``viewer`` may see it, or 404; one read unit.

    ``own_new``: the viewer just wrote the post, so the visibility check (an author sees their
    own post) is left out; the statuses still come through ``statuses_in``."""
    c = ctx(request)

    async def load(conn: AsyncConnection) -> list[dict]:
        if not own_new and not await can_see_post(conn, viewer, post_id):
            raise NotFound("Record not found")
        return await statuses_json(conn, c, viewer, [post_id])

    found = await c.db.read(load)
    if not found:
        raise NotFound("Record not found")
    return found[0]


@routes.post("/api/v1/statuses")
async def create_status(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    c = ctx(request)
    key = request.headers.get("Idempotency-Key")
    p = await params.read(request)
    language = p.str("language", max_len=16)
    draft = Draft(
        source=p.str("status") or "",
        audience=parse_audience(p),
        spoiler_text=p.str("spoiler_text") or "",
        sensitive=bool(p.bool("sensitive", False)),
        language=language or None,
        in_reply_to_id=p.id("in_reply_to_id"),
        community_id=p.id("community_id"),
        media_ids=tuple(p.ids("media_ids")),
        poll=parse_poll(p),
        fmt="plain",
        application_id=auth.app_id,
    )
    if p.str("scheduled_at"):
        if key:
            existing = await idempotency.post_for_key(c, auth.user_id, key)
            if existing is not None:
                return json(await status_json(request, auth.viewer, existing))
        scheduled_id = await scheduled.schedule(
            c,
            auth.actor_id,
            draft,
            parse_time(p.str("scheduled_at")),
            idempotency=key,
        )
        async with c.db.read() as conn:
            item = await scheduled.get(conn, auth.actor_id, scheduled_id)
        return json(await scheduled_json(request, item))
    # one write unit: the post, its rows, its deliveries and the key (an earlier post made with
    # the same key is returned instead); then one read unit for the answer
    post_id = await posts.create_post(c, auth.actor_id, draft, idempotency_key=key or None)
    return json(await status_json(request, auth.viewer, post_id, own_new=True))


@routes.get(f"/api/v1/statuses/{ID}")
async def get_status(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    return json(await status_json(request, auth.viewer, path_id(request)))


@routes.get("/api/v1/statuses")
async def get_statuses(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        wanted = p.ids("id")[:40]
        ids = [i for i in wanted if await can_see_post(conn, auth.viewer, i)]
        return json(await statuses_json(conn, c, auth.viewer, ids))


@routes.delete(f"/api/v1/statuses/{ID}")
async def delete_status(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    body = await status_json(request, auth.viewer, path_id(request))
    former = await posts.delete_post(ctx(request), auth.actor_id, path_id(request))
    body["text"] = former["source"]
    body["spoiler_text"] = former["spoiler_text"]
    return json(body)


@routes.put(f"/api/v1/statuses/{ID}")
async def edit_status(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    p = await params.read(request)
    source = p.str("status")
    if source is None:
        raise ValidationError("status: required", field="status")
    media_ids = tuple(p.ids("media_ids")) if "media_ids" in p else None
    await posts.edit_post(
        ctx(request),
        auth.actor_id,
        path_id(request),
        source=source,
        spoiler_text=p.str("spoiler_text"),
        sensitive=p.bool("sensitive"),
        language=p.str("language", max_len=16),
        media_ids=media_ids,
    )
    return json(await status_json(request, auth.viewer, path_id(request)))


@routes.get(f"/api/v1/statuses/{ID}/source")
async def status_source(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    async with ctx(request).db.read() as conn:
        if not await can_see_post(conn, auth.viewer, path_id(request)):
            raise NotFound("Record not found")
        row = await post_pages.post_row(conn, path_id(request))
    if row.author_id != auth.actor_id:
        raise NotFound("Record not found")
    return json({"id": str(row.id), "text": row.source, "spoiler_text": row.spoiler_text})


@routes.get(f"/api/v1/statuses/{ID}/history")
async def status_history(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    current = await status_json(request, auth.viewer, path_id(request))
    async with ctx(request).db.read() as conn:
        rows = await post_pages.edits_of(conn, path_id(request), newest_first=False)
    base = {
        "account": current["account"],
        "poll": None,
        "media_attachments": current["media_attachments"],
        "emojis": [],
    }
    if not rows:
        return json(
            [
                {
                    **base,
                    "content": current["content"],
                    "spoiler_text": current["spoiler_text"],
                    "sensitive": current["sensitive"],
                    "created_at": current["created_at"],
                }
            ]
        )
    return json(
        [
            {
                **base,
                "content": r.content_html,
                "spoiler_text": r.spoiler_text,
                "sensitive": r.sensitive,
                "created_at": clock.iso(r.created_at),
            }
            for r in rows
        ]
    )


@routes.get(f"/api/v1/statuses/{ID}/context")
async def status_context(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    c = ctx(request)
    async with c.db.read() as conn:
        if not await can_see_post(conn, auth.viewer, path_id(request)):
            raise NotFound("Record not found")
        ancestors, descendants = await timelines.thread(conn, auth.viewer, path_id(request))
        return json(
            {
                "ancestors": await statuses_json(conn, c, auth.viewer, ancestors, context="thread"),
                "descendants": await statuses_json(
                    conn, c, auth.viewer, descendants, context="thread"
                ),
            }
        )


async def _action(request: web.Request, scope: str, action) -> web.Response:
    auth = await user_auth(request, scope)
    result = await action(ctx(request), auth.actor_id, path_id(request))
    return json(
        await status_json(
            request, auth.viewer, result if isinstance(result, int) else path_id(request)
        )
    )


@routes.post(f"/api/v1/statuses/{ID}/favourite")
async def favourite(request: web.Request) -> web.Response:
    return await _action(request, "write:favourites", posts.favourite)


@routes.post(f"/api/v1/statuses/{ID}/unfavourite")
async def unfavourite(request: web.Request) -> web.Response:
    return await _action(request, "write:favourites", posts.unfavourite)


@routes.post(f"/api/v1/statuses/{ID}/reblog")
async def reblog(request: web.Request) -> web.Response:
    return await _action(request, "write:statuses", posts.reblog)


@routes.post(f"/api/v1/statuses/{ID}/unreblog")
async def unreblog(request: web.Request) -> web.Response:
    return await _action(request, "write:statuses", posts.unreblog)


def _flag(mark: str, on: bool):
    async def act(c, actor_id: int, post_id: int) -> int:
        return await marked_posts.set_mark(c, actor_id, post_id, mark, on)

    return act


@routes.post(f"/api/v1/statuses/{ID}/bookmark")
async def bookmark(request: web.Request) -> web.Response:
    return await _action(request, "write:bookmarks", _flag("bookmark", True))


@routes.post(f"/api/v1/statuses/{ID}/unbookmark")
async def unbookmark(request: web.Request) -> web.Response:
    return await _action(request, "write:bookmarks", _flag("bookmark", False))


@routes.post(f"/api/v1/statuses/{ID}/pin")
async def pin(request: web.Request) -> web.Response:
    return await _action(request, "write:accounts", _flag("pin", True))


@routes.post(f"/api/v1/statuses/{ID}/unpin")
async def unpin(request: web.Request) -> web.Response:
    return await _action(request, "write:accounts", _flag("pin", False))


def _mute(on: bool):
    async def act(c, actor_id: int, post_id: int) -> None:
        await conversations.set_muted(c, actor_id, post_id, on)

    return act


@routes.post(f"/api/v1/statuses/{ID}/mute")
async def mute(request: web.Request) -> web.Response:
    return await _action(request, "write:mutes", _mute(True))


@routes.post(f"/api/v1/statuses/{ID}/unmute")
async def unmute(request: web.Request) -> web.Response:
    return await _action(request, "write:mutes", _mute(False))


async def _who(request: web.Request, lister) -> web.Response:
    """Accounts that liked or boosted a post: ``lister`` of ``services.account_lists``."""
    auth = await authenticate(request, "read:accounts", required=False)
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        if not await can_see_post(conn, auth.viewer, path_id(request)):
            raise NotFound("Record not found")
        ids, actor_ids = await lister(conn, path_id(request), page(p, default=40, maximum=80))
        body = await accounts_by_id(conn, c, actor_ids)
    return json(body, headers=link_header(request, ids, c.base))


@routes.get(f"/api/v1/statuses/{ID}/favourited_by")
async def favourited_by(request: web.Request) -> web.Response:
    return await _who(request, account_lists.favourited_by)


@routes.get(f"/api/v1/statuses/{ID}/reblogged_by")
async def reblogged_by(request: web.Request) -> web.Response:
    return await _who(request, account_lists.reblogged_by)


@routes.get(f"/api/v1/statuses/{ID}/card")
async def card(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    await status_json(request, auth.viewer, path_id(request))
    return json({})
