"""The OpenAPI part for community events and roadmap follows/supports (merged by ``openapi``)."""

from __future__ import annotations

from typing import Any

from server.api.koers import openapi_parts as o

JOIN_MODES = ["free", "approval"]
PARTICIPANT = o.obj(
    {
        "id": o.ID,
        "acct": {"type": "string"},
        "display_name": {"type": "string"},
        "state": {"enum": ["joined", "pending", "rejected"]},
    }
)
SCHEMAS: dict[str, Any] = {
    "Event": o.obj(
        {
            "id": o.ID,
            "community_id": o.ID,
            "title": {"type": "string"},
            "description": {"type": "string"},
            "starts_at": o.STAMP,
            "ends_at": {"type": ["string", "null"], "format": "date-time"},
            "place": {
                "oneOf": [
                    {"type": "null"},
                    o.obj({"name": {"type": "string"}, "address": {"type": "string"}}),
                ]
            },
            "online_url": o.nullable("string"),
            "capacity": {"type": ["integer", "null"], "minimum": 1},
            "remaining": {"type": ["integer", "null"], "minimum": 0},
            "join_mode": {"enum": JOIN_MODES},
            "audience": {"enum": o.ITEM_AUDIENCES},
            "uri": o.nullable("string"),
            "participants_count": o.COUNT,
            "state": {"enum": ["joined", "pending", "rejected", None]},
            "participants": {"type": "array", "items": PARTICIPANT},
        }
    ),
    "RoadmapStanding": o.obj(
        {
            "item_id": o.ID,
            "supports": o.COUNT,
            "followers": o.COUNT,
            "following": {"type": "boolean"},
            "supporting": {"type": "boolean"},
        }
    ),
}
BODIES: dict[str, Any] = {
    "NewEvent": o.obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": {"type": "string", "maxLength": 10000},
            "starts_at": {
                "type": "string",
                "format": "date-time",
                "description": "ISO 8601; without an offset: UTC",
            },
            "ends_at": {"type": "string", "format": "date-time"},
            "place": o.obj(
                {
                    "name": {"type": "string", "maxLength": 255},
                    "address": {"type": "string", "maxLength": 500},
                },
                required=(),
            ),
            "online_url": {
                "type": "string",
                "maxLength": 2048,
                "description": "http(s); a place or a link is required",
            },
            "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": 100000},
            "join_mode": {"enum": JOIN_MODES},
            "audience": {"enum": o.ITEM_AUDIENCES},
        },
        required=("title", "starts_at"),
    ),
    "EventChange": o.obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": {"type": "string", "maxLength": 10000},
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "place": o.obj(
                {
                    "name": {"type": "string", "maxLength": 255},
                    "address": {"type": "string", "maxLength": 500},
                },
                required=(),
            ),
            "online_url": {"type": "string", "maxLength": 2048},
            "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": 100000},
            "join_mode": {"enum": JOIN_MODES},
            "audience": {"enum": o.ITEM_AUDIENCES},
        },
        required=(),
    ),
    "EventDecision": o.obj(
        {"account_id": o.ID_IN_BODY, "decision": {"enum": ["accept", "reject"]}}
    ),
}


def paths() -> dict[str, dict[str, Any]]:
    """The events and roadmap-follow paths."""
    c, ev = o.C, ("id", "event_id")
    out: dict[str, dict[str, Any]] = {
        c + "/events": {
            "get": o.op(
                "Events visible to you, soonest first",
                o.list_of("Event"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": o.op(
                "Organise an event (members)",
                o.ref("Event"),
                write=True,
                body="NewEvent",
                created=True,
            ),
        },
        c + "/events/{event_id}": {
            "get": o.op(
                "One event with its participants",
                o.ref("Event"),
                write=False,
                params=ev,
                errors=("401", "403", "404"),
            ),
            "patch": o.op(
                "Change an event (organiser, managers); fields left out stay",
                o.ref("Event"),
                write=True,
                params=ev,
                body="EventChange",
            ),
        },
        c + "/events/{event_id}/rsvp": {
            "post": o.op(
                "Take a place (free) or ask for one (approval); 409 when full",
                o.ref("Event"),
                write=True,
                params=ev,
            )
        },
        c + "/events/{event_id}/leave": {
            "post": o.op(
                "Give up your place or withdraw your request",
                o.ref("Event"),
                write=True,
                params=ev,
            )
        },
        c + "/events/{event_id}/decide": {
            "post": o.op(
                "Accept or reject a pending request (organiser, managers)",
                o.ref("Event"),
                write=True,
                params=ev,
                body="EventDecision",
            )
        },
    }
    for action, summary in (
        ("follow", "Follow an item's status changes"),
        ("unfollow", "Stop following an item"),
        ("support", "Support an item (one per person)"),
        ("unsupport", "Withdraw your support"),
    ):
        out[c + "/roadmap/{item_id}/" + action] = {
            "post": o.op(summary, o.ref("RoadmapStanding"), write=True, params=("id", "item_id"))
        }
    return out
