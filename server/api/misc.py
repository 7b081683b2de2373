"""The smaller endpoints apps call on start: markers, bookmarks, favourites, conversations, and the
features Koers does not have but must answer validly (trends, announcements …)."""

from __future__ import annotations

from aiohttp import web

from server import clock
from server.api import params
from server.api.auth import authenticate, user_auth
from server.api.common import ctx, json, link_header, page
from server.api.present import accounts_by_id, statuses_json
from server.services import marked_posts, markers

routes = web.RouteTableDef()


async def _flagged(request: web.Request, mark: str, scope: str) -> web.Response:
    auth = await user_auth(request, scope)
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids, post_ids = await marked_posts.marked(conn, auth.viewer, mark, page(p))
        body = await statuses_json(conn, c, auth.viewer, post_ids)
    return json(body, headers=link_header(request, ids, c.base))


@routes.get("/api/v1/bookmarks")
async def bookmarks(request: web.Request) -> web.Response:
    return await _flagged(request, "bookmark", "read:bookmarks")


@routes.get("/api/v1/favourites")
async def favourites(request: web.Request) -> web.Response:
    return await _flagged(request, "favourite", "read:favourites")


@routes.get("/api/v1/conversations")
@routes.get("/api/v1/conversations/")
async def conversations(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids = await marked_posts.direct_ids(conn, auth.viewer, page(p))
        statuses = await statuses_json(conn, c, auth.viewer, ids)
        out, seen = [], set()
        for status in statuses:
            root = await marked_posts.thread_root(conn, int(status["id"]))
            if root in seen:
                continue
            seen.add(root)
            others = [int(m["id"]) for m in status["mentions"] if int(m["id"]) != auth.actor_id]
            if int(status["account"]["id"]) != auth.actor_id:
                others.insert(0, int(status["account"]["id"]))
            out.append(
                {
                    "id": str(root),
                    "unread": False,
                    "accounts": await accounts_by_id(conn, c, list(dict.fromkeys(others))),
                    "last_status": status,
                }
            )
    return json(out, headers=link_header(request, ids, c.base))


@routes.get("/api/v1/markers")
async def get_markers(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    p = await params.read(request)
    async with ctx(request).db.read() as conn:
        rows = await markers.get(
            conn, auth.user_id, p.list("timeline") or ["home", "notifications"]
        )
    return json(
        {
            r.timeline: {
                "last_read_id": r.last_read_id,
                "version": r.version,
                "updated_at": clock.iso(r.updated_at),
            }
            for r in rows
        }
    )


@routes.post("/api/v1/markers")
async def set_markers(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    p = await params.read(request)
    changes = {
        tl: p.str(f"{tl}[last_read_id]") for tl in markers.TIMELINES if p.str(f"{tl}[last_read_id]")
    }
    await markers.save(ctx(request), auth.user_id, changes)
    async with ctx(request).db.read() as conn:
        rows = await markers.get(conn, auth.user_id, list(changes))
    return json(
        {
            r.timeline: {
                "last_read_id": r.last_read_id,
                "version": r.version,
                "updated_at": clock.iso(r.updated_at),
            }
            for r in rows
        }
    )


@routes.get("/api/v1/trends")
@routes.get("/api/v1/trends/tags")
@routes.get("/api/v1/trends/statuses")
@routes.get("/api/v1/trends/links")
@routes.get("/api/v1/announcements")
@routes.get("/api/v1/directory")
async def public_empty(request: web.Request) -> web.Response:
    await authenticate(request, "read", required=False)
    return json([])


@routes.get("/api/v1/followed_tags")
@routes.get("/api/v1/endorsements")
@routes.get("/api/v1/featured_tags")
async def private_empty(request: web.Request) -> web.Response:
    await authenticate(request, "read")
    return json([])
