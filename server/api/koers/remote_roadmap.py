"""Koers API: the roadmap and idea box of a community hosted on another instance, named by its
address (``/remote_communities/{handle@host}/...``).

The same community also has an id here (``community_id`` in every answer), so the id routes work
for it too (``/communities/{id}/roadmap``, ``/communities/{id}/roadmap/{item_id}/support``,
``/communities/{id}/ideas``, ``/ideas/{id}/support``). Reads go through the visibility module
(``roadmap.items``, ``ideas.list_ideas``, ``remote_ideas.shared_ideas``); supports and follows are
sent to the Group by the same services as on the web pages.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.ideas import to_idea_json
from server.api.koers.params import choice, json_body, path_id, text
from server.api.koers.purpose_process import REMOTE
from server.api.koers.serialize import to_item_json
from server.errors import NotFound
from server.keys import CTX
from server.services import ideas, remote_communities, remote_ideas, roadmap, roadmap_social
from server.services.remote_communities import RemoteCommunity
from server.visibility import Viewer

PREFIX = "/api/koers/v1"
R = PREFIX + "/remote_communities/{acct}"
routes = web.RouteTableDef()


async def _community(request: web.Request) -> tuple[RemoteCommunity, int]:
    match = REMOTE.match(request.match_info["acct"])
    if match is None:
        raise NotFound("name a community as handle@host")
    handle, host = match["handle"], match["host"]
    async with request.app[CTX].db.read() as conn:
        rc = await remote_communities.find(conn, handle, host)
    if rc.community is None:
        raise NotFound("nothing of this community is known here yet: join it first")
    return rc, rc.community.id


async def _items_json(
    request: web.Request, viewer: Viewer, community_id: int, only: int | None = None
) -> list[dict[str, Any]]:
    async with request.app[CTX].db.read() as conn:
        items = (
            [await roadmap.get_item(conn, viewer, community_id, only)]
            if only
            else await roadmap.items(conn, viewer, community_id)
        )
        standings = await roadmap_social.standings(conn, [i.id for i in items], viewer.actor_id)
    return [
        {
            **to_item_json(i),
            "supports": standings[i.id].supports,
            "followers": standings[i.id].followers,
            "following": standings[i.id].following,
            "supporting": standings[i.id].supporting,
        }
        for i in items
    ]


@routes.get(R + "/roadmap")
async def remote_roadmap(request: web.Request) -> web.Response:
    """The items of the remote roadmap the caller may see, with support counts and the caller's standing."""
    auth = await authenticate(request, "read", required=False)
    _, community_id = await _community(request)
    return web.json_response(await _items_json(request, auth.viewer, community_id))


async def _item_action(request: web.Request, action: str) -> web.Response:
    auth = await user_auth(request, "write")
    _, community_id = await _community(request)
    item_id = path_id(request, "item_id")
    await _items_json(request, auth.viewer, community_id, only=item_id)  # 404 unless visible here
    await getattr(roadmap_social, action)(request.app[CTX], auth.need_user(), item_id)
    return web.json_response(
        (await _items_json(request, auth.viewer, community_id, only=item_id))[0]
    )


@routes.post(R + "/roadmap/{item_id}/support")
async def support_item(request: web.Request) -> web.Response:
    """Support the item: a ``Like`` of it goes to the Group, which counts it."""
    return await _item_action(request, "support")


@routes.post(R + "/roadmap/{item_id}/unsupport")
async def unsupport_item(request: web.Request) -> web.Response:
    """Withdraw the support (an ``Undo`` of the Like)."""
    return await _item_action(request, "unsupport")


@routes.post(R + "/roadmap/{item_id}/follow")
async def follow_item(request: web.Request) -> web.Response:
    """Follow the item: its status changes come back as notifications (``koers.roadmap_status``)."""
    return await _item_action(request, "follow")


@routes.post(R + "/roadmap/{item_id}/unfollow")
async def unfollow_item(request: web.Request) -> web.Response:
    """Stop following the item."""
    return await _item_action(request, "unfollow")


async def _ideas_json(request: web.Request, viewer: Viewer, community_id: int) -> dict[str, Any]:
    async with request.app[CTX].db.read() as conn:
        own = await ideas.list_ideas(conn, viewer, community_id)
        shared = await remote_ideas.shared_ideas(conn, viewer, community_id)
    known = {i.post_id for i in own}
    return {
        "community_id": str(community_id),
        "ideas": [to_idea_json(i) for i in own],
        "shared": [
            {
                "post_id": str(s.post_id),
                "title": s.title,
                "author": s.author_handle,
                "url": s.author_url,
                "supports": s.supports,
                "supported": s.supported_by_me,
                "created_at": s.created_at.isoformat(),
            }
            for s in shared
            if s.post_id not in known
        ],
    }


@routes.get(R + "/ideas")
async def remote_idea_box(request: web.Request) -> web.Response:
    """Ideas sent from this instance (with the state the home reports) and idea posts shared with us."""
    auth = await authenticate(request, "read", required=False)
    _, community_id = await _community(request)
    return web.json_response(await _ideas_json(request, auth.viewer, community_id))


@routes.post(R + "/ideas")
async def remote_submit(request: web.Request) -> web.Response:
    """Send an idea to the community's idea box at home (members of the community)."""
    auth = await user_auth(request, "write")
    _, community_id = await _community(request)
    body = await json_body(request)
    title = text(body, "title", required=True, max_len=ideas.MAX_TITLE)
    description = text(body, "text", max_len=ideas.MAX_TEXT)
    audience = choice(body, "audience", ideas.AUDIENCES, default="public") or "public"
    idea_id = await remote_ideas.submit(
        request.app[CTX],
        auth.need_user(),
        community_id,
        title=title,
        description=description,
        audience=audience,
    )
    async with request.app[CTX].db.read() as conn:
        idea = await ideas.get_idea(conn, auth.viewer, idea_id)
    return web.json_response(to_idea_json(idea), status=201)


async def _idea_like(request: web.Request, on: bool) -> web.Response:
    auth = await user_auth(request, "write")
    _, community_id = await _community(request)
    post_id = path_id(request, "post_id")
    await remote_ideas.support(request.app[CTX], auth.need_user(), community_id, post_id, on=on)
    return web.json_response({"post_id": str(post_id), "supported": on})


@routes.post(R + "/ideas/{post_id}/support")
async def support_idea(request: web.Request) -> web.Response:
    """Support an idea (a ``Like`` of its post, counted at home)."""
    return await _idea_like(request, True)


@routes.post(R + "/ideas/{post_id}/unsupport")
async def unsupport_idea(request: web.Request) -> web.Response:
    """Withdraw the support."""
    return await _idea_like(request, False)
