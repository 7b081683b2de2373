"""``/api/v1/polls``: read a poll and vote in it."""

from __future__ import annotations

from aiohttp import web

from server.api import params
from server.api.auth import authenticate, user_auth
from server.api.common import ctx, json, path_id
from server.api.present import statuses_json
from server.errors import NotFound, ValidationError
from server.services import post_pages, posts
from server.visibility import Viewer, can_see_post

routes = web.RouteTableDef()


async def poll_json(request: web.Request, viewer: Viewer, poll_id: int) -> dict:
    c = ctx(request)
    async with c.db.read() as conn:
        post_id = await post_pages.post_of_poll(conn, poll_id)
        if post_id is None or not await can_see_post(conn, viewer, post_id):
            raise NotFound("Record not found")
        status = await statuses_json(conn, c, viewer, [post_id])
    if not status or status[0]["poll"] is None:
        raise NotFound("Record not found")
    return status[0]["poll"]


@routes.get(r"/api/v1/polls/{id:\d+}")
async def get_poll(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    return json(await poll_json(request, auth.viewer, path_id(request)))


@routes.post(r"/api/v1/polls/{id:\d+}/votes")
async def vote(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    p = await params.read(request)
    choices = [int(c) for c in p.list("choices") if c.isascii() and c.isdigit() and len(c) <= 9]
    if len(choices) != len(p.list("choices")):
        raise ValidationError("choices: option numbers", field="choices")
    await posts.vote(ctx(request), auth.actor_id, path_id(request), choices)
    return json(await poll_json(request, auth.viewer, path_id(request)))
