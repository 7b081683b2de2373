"""``/api/v1/timelines``: home, public, hashtag and list timelines, paged with Link headers.

A list with ``community_id`` is the auto-managed list of a joined community (see ``lists``); its
timeline is that community's feed, so every joined community reads as a timeline in any app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from server.api import params
from server.api.auth import authenticate, user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.present import statuses_in, statuses_json
from server.services import lists, timelines
from server.services.marked_posts import direct_ids
from server.visibility import Viewer

routes = web.RouteTableDef()


async def _answer(
    request: web.Request,
    viewer: Viewer,
    fetch: Callable[[Connection], list[int]],
    context: str = "home",
) -> web.Response:
    """One read unit: the page's ids (``fetch(conn)``) and their statuses, in one transaction."""
    c = ctx(request)

    def unit(conn: Connection) -> tuple[list[int], list[dict]]:
        ids = fetch(conn)
        return ids, statuses_in(conn, c, viewer, ids, context)

    ids, body = await c.db.read(unit)
    return json(body, headers=link_header(request, ids, c.base))


async def _answer_async(
    request: web.Request,
    viewer: Viewer,
    fetch: Callable[[AsyncConnection], Awaitable[list[int]]],
    context: str = "home",
) -> web.Response:
    """``_answer`` for an async ``fetch(conn)`` (awaiting only its connection): one unit too."""
    c = ctx(request)

    async def unit(conn: AsyncConnection) -> tuple[list[int], list[dict]]:
        ids = await fetch(conn)
        return ids, await statuses_json(conn, c, viewer, ids, context=context)

    ids, body = await c.db.read(unit)
    return json(body, headers=link_header(request, ids, c.base))


@routes.get("/api/v1/timelines/home")
async def home(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    p = await params.read(request)
    return await _answer(
        request, auth.viewer, lambda conn: timelines.home_ids(conn, auth.viewer, page(p))
    )


@routes.get("/api/v1/timelines/public")
async def public(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    p = await params.read(request)
    return await _answer(
        request,
        auth.viewer,
        lambda conn: timelines.public_ids(
            conn,
            auth.viewer,
            page(p),
            local=bool(p.bool("local")),
            remote=bool(p.bool("remote")),
            only_media=bool(p.bool("only_media")),
        ),
        "public",
    )


@routes.get("/api/v1/timelines/tag/{tag}")
async def tag(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    p = await params.read(request)
    name = request.match_info["tag"].lstrip("#")
    return await _answer(
        request,
        auth.viewer,
        lambda conn: timelines.tag_ids(conn, auth.viewer, name, page(p), bool(p.bool("local"))),
        "public",
    )


@routes.get(r"/api/v1/timelines/list/{id:\d+}")
async def list_timeline(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:lists")
    p = await params.read(request)
    list_id = path_id(request)

    async def fetch(conn: AsyncConnection) -> list[int]:
        row = await lists.own_list(conn, auth.actor_id, list_id)
        return await lists.timeline(conn, auth.viewer, row, page(p))

    return await _answer_async(request, auth.viewer, fetch)


@routes.get("/api/v1/timelines/direct")
async def direct(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    p = await params.read(request)
    return await _answer_async(
        request, auth.viewer, lambda conn: direct_ids(conn, auth.viewer, page(p))
    )
