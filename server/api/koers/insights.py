"""Koers API: insights — a community's interaction graph for its managers, and a member's own profile.

The rules (what counts, who is named, the profile thresholds) live in ``services.insights``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from server.api.auth import user_auth
from server.api.koers.params import json_body, path_id
from server.api.koers.serialize import iso
from server.errors import BadRequest, ValidationError
from server.keys import CTX
from server.services import communities, insights
from server.services.insights_json import insights_json, person_json, thresholds_json

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()


def _weeks(request: web.Request) -> int:
    raw = request.query.get("weeks", "")
    if not raw:
        return insights.DEFAULT_WEEKS
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= insights.MAX_WEEKS:
        raise BadRequest(f"weeks: a whole number from 1 to {insights.MAX_WEEKS}")
    return int(raw)


async def _load(request: web.Request, load: Callable[..., Awaitable[Any]]) -> tuple[int, Any]:
    """Authenticate, parse ``{id}`` and ``?weeks=``, and run one insights service function."""
    auth = await user_auth(request, "read")
    community_id = path_id(request)
    weeks = _weeks(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        return community_id, await load(ctx, conn, auth.viewer, community_id, weeks=weeks)


@routes.get(PREFIX + r"/communities/{id}/insights")
async def community_insights(request: web.Request) -> web.Response:
    """Managers only: leaders, quiet members, every named member's profile, weekly trends."""
    _, data = await _load(request, insights.community_insights)
    return web.json_response(insights_json(data))


@routes.get(PREFIX + r"/communities/{id}/insights/me")
async def my_insights(request: web.Request) -> web.Response:
    """A member's own profile in the community (also when they opted out)."""
    community_id, data = await _load(request, insights.my_insights)
    return web.json_response(
        {
            "community_id": str(community_id),
            "weeks": [iso(w) for w in data.weeks],
            "opted_out": data.opted_out,
            "thresholds": thresholds_json(data),
            **person_json(data.person),
        }
    )


async def _opt_out_json(request: web.Request, actor_id: int, community_id: int) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        opted_out = await insights.is_opted_out(conn, actor_id)
    return web.json_response(
        {"community_id": str(community_id), "opted_out": opted_out, "applies_to": "all_communities"}
    )


@routes.get(PREFIX + r"/communities/{id}/insights/opt_out")
async def get_opt_out(request: web.Request) -> web.Response:
    """The caller's own choice: are they left out of insights? (One choice, for every community.)"""
    auth = await user_auth(request, "read")
    community_id = path_id(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
    return await _opt_out_json(request, auth.need_user(), community_id)


@routes.put(PREFIX + r"/communities/{id}/insights/opt_out")
async def put_opt_out(request: web.Request) -> web.Response:
    """Leave insights (``{"opted_out": true}``) or take part again (``false``), as the insights page does."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    body = await json_body(request)
    choice = body.get("opted_out")
    if not isinstance(choice, bool):
        raise ValidationError(
            "opted_out: true to leave insights, false to take part", field="opted_out"
        )
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
    await insights.set_opt_out(request.app[CTX], auth.need_user(), choice)
    return await _opt_out_json(request, auth.need_user(), community_id)
