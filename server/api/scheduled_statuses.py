"""``/api/v1/scheduled_statuses``: posts a member scheduled with ``POST /api/v1/statuses`` and
``scheduled_at``; list, read, move to another time, cancel."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from aiohttp import web

from server import clock
from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.entities import MASTODON_VISIBILITY
from server.api.media import _media_json
from server.errors import NotFound, ValidationError
from server.services import scheduled
from server.services.scheduled import Scheduled
from server.visibility import Audience

routes = web.RouteTableDef()
ID = r"{id:\d+}"


def parse_time(value: str | None) -> datetime:
    """An ISO 8601 time from the client (``2026-12-01T10:00:00.000Z``), or a 422."""
    try:
        when = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError(
            "scheduled_at: an ISO 8601 date and time", field="scheduled_at"
        ) from None
    if when.tzinfo is None:
        raise ValidationError(
            "scheduled_at: give the time zone (e.g. Z for UTC)", field="scheduled_at"
        )
    return when


async def scheduled_json(request: web.Request, item: Scheduled) -> dict[str, Any]:
    """The Mastodon ``ScheduledStatus`` entity."""
    p = dict(item.params)
    media = []
    for media_id in p.get("media_ids") or []:
        with contextlib.suppress(
            NotFound
        ):  # an upload removed since is left out (publishing will refuse it)
            media.append(await _media_json(request, item.actor_id, media_id))
    visibility = p.get("visibility")
    return {
        "id": str(item.id),
        "scheduled_at": clock.iso(item.scheduled_at),
        "params": {
            "text": p.get("text") or "",
            "poll": p.get("poll"),
            "media_ids": [str(m) for m in p.get("media_ids") or []] or None,
            "sensitive": bool(p.get("sensitive")),
            "spoiler_text": p.get("spoiler_text") or None,
            "visibility": MASTODON_VISIBILITY[Audience(visibility)] if visibility else None,
            "in_reply_to_id": str(p["in_reply_to_id"]) if p.get("in_reply_to_id") else None,
            "language": p.get("language"),
            "application_id": p.get("application_id"),
            "scheduled_at": None,
            "idempotency": p.get("idempotency"),
            "with_rate_limit": False,
        },
        "media_attachments": media,
    }


async def _one(request: web.Request, actor_id: int, scheduled_id: int) -> web.Response:
    async with ctx(request).db.read() as conn:
        item = await scheduled.get(conn, actor_id, scheduled_id)
    return json(await scheduled_json(request, item))


@routes.get("/api/v1/scheduled_statuses")
async def list_scheduled(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids = await scheduled.page_of(conn, auth.actor_id, page(p))
        items = await scheduled.load(conn, ids)
    return json(
        [await scheduled_json(request, i) for i in items], headers=link_header(request, ids, c.base)
    )


@routes.get(f"/api/v1/scheduled_statuses/{ID}")
async def get_scheduled(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:statuses")
    return await _one(request, auth.actor_id, path_id(request))


@routes.put(f"/api/v1/scheduled_statuses/{ID}")
async def move_scheduled(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    p = await params.read(request)
    await scheduled.reschedule(
        ctx(request), auth.actor_id, path_id(request), parse_time(p.str("scheduled_at"))
    )
    return await _one(request, auth.actor_id, path_id(request))


@routes.delete(f"/api/v1/scheduled_statuses/{ID}")
async def cancel_scheduled(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:statuses")
    await scheduled.cancel(ctx(request), auth.actor_id, path_id(request))
    return json({})
