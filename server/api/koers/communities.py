"""Koers API: communities — list, one, join, leave, members.

Joining is following the community's Group actor; the openness rules live in the services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.api.auth import ApiAuth, authenticate, user_auth
from server.api.koers.params import choice, json_body, path_id, text
from server.api.koers.serialize import to_account_json, to_community_json
from server.context import Context
from server.errors import ValidationError
from server.keys import CTX
from server.services import communities, community_settings
from server.services.communities import Community

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


async def community_json(conn: AsyncConnection, community: Community, auth: ApiAuth) -> dict:
    """The community with its member count and the caller's own standing in it."""
    counts = await communities.member_counts(conn, [community.id])
    return to_community_json(
        community,
        members_count=counts.get(community.id, 0),
        membership=await communities.membership(conn, community, auth.actor_id),
        manager=await communities.is_manager(conn, community.id, auth.actor_id),
    )


@routes.get(PREFIX + "/communities")
async def list_communities(request: web.Request) -> web.Response:
    """The instance's communities, by name."""
    auth = await authenticate(request, "read", required=False)
    async with request.app[CTX].db.read() as conn:
        out = [await community_json(conn, c, auth) for c in await communities.list_local(conn)]
    return web.json_response(out)


@routes.get(PREFIX + r"/communities/{id}")
async def get_community(request: web.Request) -> web.Response:
    """One community."""
    auth = await authenticate(request, "read", required=False)
    community_id = path_id(request)
    async with request.app[CTX].db.read() as conn:
        community = await communities.get(conn, community_id)
        return web.json_response(await community_json(conn, community, auth))


@routes.patch(PREFIX + r"/communities/{id}")
async def update_settings(request: web.Request) -> web.Response:
    """A manager changes the community's settings (fields left out keep their value)."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    body = await json_body(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
        now = await community_settings.current(conn, community_id)
    outside = body.get("accept_outside_ideas", now.accept_outside_ideas)
    if not isinstance(outside, bool):
        raise ValidationError("accept_outside_ideas: true or false", field="accept_outside_ideas")
    new = community_settings.Settings(
        name=text(body, "name", default=now.name, max_len=communities.MAX_NAME),
        description=text(
            body, "description", default=now.description, max_len=communities.MAX_DESCRIPTION
        ),
        openness=choice(body, "openness", communities.OPENNESS, default=now.openness)
        or now.openness,
        member_list_visibility=choice(
            body,
            "member_list_visibility",
            communities.MEMBER_LIST_VISIBILITY,
            default=now.member_list_visibility,
        )
        or now.member_list_visibility,
        accept_outside_ideas=outside,
    )
    await community_settings.update(ctx, auth.need_user(), community_id, new)
    async with ctx.db.read() as conn:
        return web.json_response(
            await community_json(conn, await communities.get(conn, community_id), auth)
        )


async def _change_membership(
    request: web.Request, action: Callable[[Context, int, int], Awaitable[object]]
) -> web.Response:
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    ctx = request.app[CTX]
    await action(ctx, auth.need_user(), community_id)
    async with ctx.db.read() as conn:
        community = await communities.get(conn, community_id)
        return web.json_response(await community_json(conn, community, auth))


@routes.post(PREFIX + r"/communities/{id}/join")
async def join(request: web.Request) -> web.Response:
    """Join an open community, or ask to join one that needs approval."""
    return await _change_membership(request, communities.join)


@routes.post(PREFIX + r"/communities/{id}/leave")
async def leave(request: web.Request) -> web.Response:
    """Leave a community (or withdraw a join request); its roles are given up."""
    return await _change_membership(request, communities.leave)


@routes.get(PREFIX + r"/communities/{id}/members")
async def members(request: web.Request) -> web.Response:
    """Accepted members, newest first, when the member list is visible to the caller."""
    auth = await authenticate(request, "read", required=False)
    community_id = path_id(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        community = await communities.get(conn, community_id)
        people = await communities.members(conn, ctx, auth.viewer, community)
    return web.json_response([to_account_json(p) for p in people])
