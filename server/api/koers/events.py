"""Koers API: a community's events (list, get, organise, RSVP, leave, decide on requests) and the
follow / support buttons of roadmap items.

Reads go through ``community_events.events_of`` / ``get_event`` (``visibility.events_visible_to``)
and ``roadmap.get_item``: hidden objects answer 404, exactly as ones that do not exist.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import choice, json_body, path_id, required_id, text
from server.api.koers.serialize import iso
from server.errors import ValidationError
from server.keys import CTX
from server.services import communities, roadmap, roadmap_social
from server.services import community_events as events
from server.visibility import ITEM_AUDIENCES

PREFIX = "/api/koers/v1"
C = PREFIX + r"/communities/{id}"
routes = web.RouteTableDef()
AUDIENCES = tuple(a.value for a in ITEM_AUDIENCES)


def to_event_json(
    e: events.Event, people: list[events.Participant], mine: str | None
) -> dict[str, Any]:
    """An event with its participants (joined) and, for the caller, their own state."""
    return {
        "id": str(e.id),
        "community_id": str(e.community_id),
        "title": e.title,
        "description": e.description_html,
        "starts_at": iso(e.starts_at),
        "ends_at": iso(e.ends_at),
        "place": {"name": e.place_name, "address": e.place_address}
        if (e.place_name or e.place_address)
        else None,
        "online_url": e.online_url or None,
        "capacity": e.capacity,
        "remaining": e.remaining,
        "join_mode": e.join_mode,
        "audience": e.audience.value,
        "uri": e.uri,
        "participants_count": e.participant_count,
        "state": mine,
        "participants": [
            {
                "id": str(p.actor_id),
                "acct": p.handle,
                "display_name": p.display_name,
                "state": p.state,
            }
            for p in people
            if p.state == "joined"
        ],
    }


def _capacity(body: dict[str, Any]) -> int | None:
    value = body.get("capacity")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("capacity: a whole number, or null for no limit", field="capacity")
    return value


async def _event_response(
    request: web.Request, community_id: int, event_id: int, *, status: int = 200
) -> web.Response:
    auth = await authenticate(request, "read", "write", required=False)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        event = await events.get_event(conn, auth.viewer, community_id, event_id)
        people = await events.participants(conn, event_id)
        mine = await events.state_of(conn, event_id, auth.viewer.actor_id)
    return web.json_response(to_event_json(event, people, mine), status=status)


@routes.get(C + "/events")
async def list_events(request: web.Request) -> web.Response:
    """The events the caller may see, soonest first."""
    auth = await authenticate(request, "read", required=False)
    community_id = path_id(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        found = await events.events_of(conn, auth.viewer, community_id)
    return web.json_response([to_event_json(e, [], None) for e in found])


@routes.post(C + "/events")
async def create_event(request: web.Request) -> web.Response:
    """A member organises an event."""
    auth = await user_auth(request, "write")
    community_id = path_id(request)
    body = await json_body(request)
    place = body.get("place") or {}
    if not isinstance(place, dict):
        raise ValidationError("place: an object with name and address", field="place")
    data = events.EventInput(
        title=text(body, "title", required=True, max_len=events.MAX_TITLE),
        description=text(body, "description", max_len=events.MAX_DESCRIPTION),
        starts_at=events.parse_time(
            text(body, "starts_at", required=True, max_len=64), "starts_at"
        ),
        ends_at=events.parse_time(text(body, "ends_at", max_len=64), "ends_at"),
        place_name=text(place, "name", max_len=255),
        place_address=text(place, "address", max_len=500),
        online_url=text(body, "online_url", max_len=2048),
        capacity=_capacity(body),
        join_mode=choice(body, "join_mode", events.JOIN_MODES, default="free") or "free",
        audience=choice(body, "audience", AUDIENCES, default="public") or "public",
    )
    event_id = await events.create_event(request.app[CTX], auth.need_user(), community_id, data)
    return await _event_response(request, community_id, event_id, status=201)


@routes.get(C + "/events/{event_id}")
async def get_event(request: web.Request) -> web.Response:
    """One event with its participants."""
    await authenticate(request, "read", required=False)
    return await _event_response(request, path_id(request), path_id(request, "event_id"))


@routes.patch(C + "/events/{event_id}")
async def update_event(request: web.Request) -> web.Response:
    """The organiser or a manager changes an event; fields left out keep their value (an ``Update`` federates)."""
    actor_id, community_id, event_id = await _visible_event(request)
    body = await json_body(request)
    place = body.get("place", {})
    if not isinstance(place, dict):
        raise ValidationError("place: an object with name and address", field="place")
    async with request.app[CTX].db.read() as conn:
        now = await events.form_values(conn, event_id)

    def keep(source: dict[str, Any], key: str, field: str, max_len: int) -> str:
        return text(source, key, max_len=max_len) if key in source else now[field]

    data = events.EventInput(
        title=keep(body, "title", "title", events.MAX_TITLE),
        description=keep(body, "description", "description", events.MAX_DESCRIPTION),
        starts_at=events.parse_time(keep(body, "starts_at", "starts_at", 64), "starts_at"),
        ends_at=events.parse_time(keep(body, "ends_at", "ends_at", 64), "ends_at"),
        place_name=keep(place, "name", "place_name", 255),
        place_address=keep(place, "address", "place_address", 500),
        online_url=keep(body, "online_url", "online_url", 2048),
        capacity=_capacity(body)
        if "capacity" in body
        else (int(now["capacity"]) if now["capacity"] else None),
        join_mode=choice(body, "join_mode", events.JOIN_MODES, default=now["join_mode"])
        or now["join_mode"],
        audience=choice(body, "audience", AUDIENCES, default=now["audience"]) or now["audience"],
    )
    await events.update_event(request.app[CTX], actor_id, event_id, data)
    return await _event_response(request, community_id, event_id)


async def _visible_event(request: web.Request) -> tuple[int, int, int]:
    auth = await user_auth(request, "write")
    community_id, event_id = path_id(request), path_id(request, "event_id")
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        await events.get_event(conn, auth.viewer, community_id, event_id)
    return auth.need_user(), community_id, event_id


@routes.post(C + "/events/{event_id}/rsvp")
async def rsvp(request: web.Request) -> web.Response:
    """Take a place (free mode) or ask for one (approval mode); 409 when the event is full."""
    actor_id, community_id, event_id = await _visible_event(request)
    await events.rsvp(request.app[CTX], actor_id, event_id)
    return await _event_response(request, community_id, event_id)


@routes.post(C + "/events/{event_id}/leave")
async def leave(request: web.Request) -> web.Response:
    """Give up a place or withdraw a request."""
    actor_id, community_id, event_id = await _visible_event(request)
    await events.leave(request.app[CTX], actor_id, event_id)
    return await _event_response(request, community_id, event_id)


@routes.post(C + "/events/{event_id}/decide")
async def decide(request: web.Request) -> web.Response:
    """The organiser or a manager accepts or rejects a pending request."""
    actor_id, community_id, event_id = await _visible_event(request)
    body = await json_body(request)
    participant = required_id(body, "account_id")
    decision = choice(body, "decision", ("accept", "reject"), required=True)
    await events.decide(request.app[CTX], actor_id, event_id, participant, decision == "accept")
    return await _event_response(request, community_id, event_id)


def _standing_json(item_id: int, s: roadmap_social.Standing) -> dict[str, Any]:
    return {
        "item_id": str(item_id),
        "supports": s.supports,
        "followers": s.followers,
        "following": s.following,
        "supporting": s.supporting,
    }


async def _item_action(request: web.Request, action: str) -> web.Response:
    auth = await user_auth(request, "write")
    community_id, item_id = path_id(request), path_id(request, "item_id")
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        await communities.get(conn, community_id)
        await roadmap.get_item(conn, auth.viewer, community_id, item_id)
    await getattr(roadmap_social, action)(ctx, auth.need_user(), item_id)
    async with ctx.db.read() as conn:
        standing = await roadmap_social.standing(conn, item_id, auth.need_user())
    return web.json_response(_standing_json(item_id, standing))


@routes.post(C + "/roadmap/{item_id}/follow")
async def follow_item(request: web.Request) -> web.Response:
    """Follow a roadmap item's status changes (idempotent); answers the item's counts."""
    return await _item_action(request, "follow")


@routes.post(C + "/roadmap/{item_id}/unfollow")
async def unfollow_item(request: web.Request) -> web.Response:
    """Stop following a roadmap item."""
    return await _item_action(request, "unfollow")


@routes.post(C + "/roadmap/{item_id}/support")
async def support_item(request: web.Request) -> web.Response:
    """Support a roadmap item (one support per person)."""
    return await _item_action(request, "support")


@routes.post(C + "/roadmap/{item_id}/unsupport")
async def unsupport_item(request: web.Request) -> web.Response:
    """Withdraw a support."""
    return await _item_action(request, "unsupport")
