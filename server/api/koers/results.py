"""Koers API: results — publish an achieved outcome to a community, and list a community's results.

A result is a post of kind ``result`` (``posts.create_post``); its audience follows the same
visibility policy as every post, and the list goes through ``timelines.community``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from server.activitypub.core.handles import MAX_HANDLES, actor_ids_for_handles
from server.api.auth import authenticate, user_auth
from server.api.koers.params import (
    check_chars,
    choice,
    id_list,
    json_body,
    limit,
    optional_id,
    path_id,
    query_id,
    required_id,
    text,
)
from server.api.koers.serialize import to_result_json
from server.errors import ValidationError
from server.keys import CTX
from server.services import communities, kudos, posts, timelines, views
from server.services.timelines import Page
from server.visibility import Audience

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()
AUDIENCES = tuple(a.value for a in Audience)


@routes.get(PREFIX + r"/communities/{id}/results")
async def list_results(request: web.Request) -> web.Response:
    """The community's results the caller may see, newest first (``max_id``, ``limit``)."""
    auth = await authenticate(request, "read", required=False)
    community_id = path_id(request)
    page = Page(max_id=query_id(request, "max_id"), limit=limit(request))
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
        ids = await timelines.community(conn, auth.viewer, community_id, page, only_results=True)
        found = await views.load_posts(
            conn, auth.viewer, ids, base=ctx.base, local_domain=ctx.settings.domain
        )
    return web.json_response([to_result_json(p) for p in found])


@routes.post(PREFIX + r"/communities/{id}/results")
async def publish(request: web.Request) -> web.Response:
    """Publish a result to the community, optionally linked to a roadmap item and roles, crediting
    contributors by handle (``name`` here, ``name@host`` anywhere on the fediverse)."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    body = await json_body(request)
    audience = choice(body, "audience", AUDIENCES)
    handles = _handles(body)
    draft = posts.Draft(
        source=text(body, "text", required=True, max_len=posts.MAX_CHARS),
        title=text(body, "title", max_len=255) or None,
        audience=Audience(audience) if audience else None,
        kind="result",
        community_id=community_id,
        roadmap_item_id=optional_id(body, "roadmap_item_id"),
        role_ids=id_list(body, "role_ids"),
    )
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
    me = auth.need_user()
    if handles:  # remote people are looked up before anything is written
        draft = replace(draft, contributor_ids=await actor_ids_for_handles(request.app, handles))
    post_id = await posts.create_post(ctx, me, draft)
    async with ctx.db.read() as conn:
        found = await views.load_posts(
            conn, auth.viewer, [post_id], base=ctx.base, local_domain=ctx.settings.domain
        )
    return web.json_response(to_result_json(found[0]), status=201)


def _handles(body: dict[str, Any]) -> list[str]:
    value = body.get("contributors")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise ValidationError(
            "contributors: a list of handles (name or name@host)", field="contributors"
        )
    if len(value) > MAX_HANDLES:
        raise ValidationError(f"contributors: at most {MAX_HANDLES} people", field="contributors")
    return [check_chars(h, "contributors") for h in value]


@routes.post(PREFIX + r"/results/{id}/kudos")
async def give_kudos(request: web.Request) -> web.Response:
    """Thank one of the people a result credits: a reply mentioning them (returned as a Result-shaped post)."""
    auth = await user_auth(request, "write")
    result_id = path_id(request)
    body = await json_body(request)
    to = required_id(body, "account_id")
    message = text(body, "message", max_len=kudos.MAX_MESSAGE)
    ctx = request.app[CTX]
    reply_id = await kudos.give_kudos(ctx, auth.need_user(), result_id, to, message)
    async with ctx.db.read() as conn:
        found = await views.load_posts(
            conn, auth.viewer, [reply_id], base=ctx.base, local_domain=ctx.settings.domain
        )
    return web.json_response(to_result_json(found[0]), status=201)
