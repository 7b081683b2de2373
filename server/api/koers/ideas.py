"""Koers API: a community's idea box — list, submit, read, support, and (managers) merge and promote.

Reads go through ``ideas.list_ideas`` / ``ideas.get_idea`` (``visibility.ideas_visible_to``): an
idea hidden from the caller answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import (
    choice,
    json_body,
    optional_id,
    path_id,
    query_choice,
    required_id,
    text,
)
from server.api.koers.purpose_process import community_id_of
from server.keys import CTX
from server.services import communities, idea_outcomes, ideas
from server.services.ideas import IdeaView

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


def to_idea_json(idea: IdeaView) -> dict[str, Any]:
    """The API form of an idea."""
    return {
        "id": str(idea.id),
        "community_id": str(idea.community_id),
        "title": idea.title,
        "content": idea.text_html,
        "audience": idea.audience,
        "status": idea.status,
        "author": idea.author_handle,
        "post_id": str(idea.post_id) if idea.post_id is not None else None,
        "merged_into_id": str(idea.merged_into_id) if idea.merged_into_id is not None else None,
        "promoted_to": (
            {"kind": idea.promoted_kind, "id": str(idea.promoted_to_id)}
            if idea.promoted_kind and idea.promoted_to_id is not None
            else None
        ),
        "supports": idea.supports,
        "supported": idea.supported_by_me,
        "created_at": idea.created_at.isoformat(),
    }


async def _answer(
    request: web.Request, viewer: Any, idea_id: int, status: int = 200
) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        found = await ideas.get_idea(conn, viewer, idea_id)
    return web.json_response(to_idea_json(found), status=status)


@routes.get(PREFIX + r"/communities/{id}/ideas")
async def list_ideas(request: web.Request) -> web.Response:
    """The ideas the caller may see, most supported first; ``?status=`` filters (default: all)."""
    auth = await authenticate(request, "read", required=False)
    community_id = await community_id_of(request)
    status = query_choice(request, "status", ideas.STATUSES)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        found = await ideas.list_ideas(conn, auth.viewer, community_id, status=status)
    return web.json_response([to_idea_json(i) for i in found])


@routes.post(PREFIX + r"/communities/{id}/ideas")
async def submit(request: web.Request) -> web.Response:
    """A member adds an idea to the box."""
    auth = await user_auth(request, "write")
    community_id = await community_id_of(request)
    body = await json_body(request)
    title = text(body, "title", required=True, max_len=ideas.MAX_TITLE)
    description = text(body, "text", max_len=ideas.MAX_TEXT)
    audience = choice(body, "audience", ideas.AUDIENCES, default="public") or "public"
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
    idea_id = await ideas.submit_idea(
        ctx, auth.need_user(), community_id, title=title, description=description, audience=audience
    )
    return await _answer(request, auth.viewer, idea_id, status=201)


@routes.get(PREFIX + r"/ideas/{id}")
async def get_idea(request: web.Request) -> web.Response:
    """One idea."""
    auth = await authenticate(request, "read", required=False)
    return await _answer(request, auth.viewer, path_id(request))


@routes.post(PREFIX + r"/ideas/{id}/support")
async def support(request: web.Request) -> web.Response:
    """Support an open idea (once per person)."""
    auth = await user_auth(request, "write")
    idea_id = path_id(request)
    await ideas.support(request.app[CTX], auth.need_user(), idea_id)
    return await _answer(request, auth.viewer, idea_id)


@routes.post(PREFIX + r"/ideas/{id}/unsupport")
async def unsupport(request: web.Request) -> web.Response:
    """Withdraw one's support."""
    auth = await user_auth(request, "write")
    idea_id = path_id(request)
    await ideas.unsupport(request.app[CTX], auth.need_user(), idea_id)
    return await _answer(request, auth.viewer, idea_id)


@routes.post(PREFIX + r"/ideas/{id}/merge")
async def merge(request: web.Request) -> web.Response:
    """Merge a duplicate into the idea ``into_id`` (managers); supports move over."""
    auth = await user_auth(request, "write")
    idea_id = path_id(request)
    into_id = required_id(await json_body(request), "into_id")
    await idea_outcomes.merge(request.app[CTX], auth.need_user(), idea_id, into_id)
    return await _answer(request, auth.viewer, idea_id)


@routes.post(PREFIX + r"/ideas/{id}/promote")
async def promote(request: web.Request) -> web.Response:
    """Turn an idea into a roadmap item or a purpose proposal (managers); the author is told wherever
    they are."""
    auth = await user_auth(request, "write")
    idea_id = path_id(request)
    body = await json_body(request)
    to = choice(body, "to", ("roadmap", "proposal"), default="roadmap")
    owner_role_id = optional_id(body, "owner_role_id")
    if to == "proposal":
        new_text = text(body, "text", required=True, max_len=5000)
        reason = text(body, "reason", max_len=2000)
        await idea_outcomes.promote_to_proposal(
            request.app[CTX], auth.need_user(), idea_id, new_text=new_text, reason=reason
        )
    else:
        await idea_outcomes.promote_to_roadmap(
            request.app[CTX], auth.need_user(), idea_id, owner_role_id=owner_role_id
        )
    return await _answer(request, auth.viewer, idea_id)
