"""The OpenAPI part for initiatives and role terms (merged by ``openapi``)."""

from __future__ import annotations

from typing import Any

from server.api.koers import openapi_parts as o

SCHEMAS: dict[str, Any] = {
    "Initiative": {
        "allOf": [
            o.ref("RoadmapItem"),
            o.obj({"lead": o.nullable("string"), "participants_count": o.COUNT}),
        ]
    },
    "RoleTerm": o.obj({"role_id": o.ID, "term_days": {"type": ["integer", "null"], "minimum": 1}}),
    "RoleRenewal": o.obj({"role_id": o.ID, "account_id": o.ID, "ends_at": o.STAMP}),
    "HolderTerm": o.obj(
        {
            "account_id": o.ID,
            "since": o.STAMP,
            "ends_at": {"type": ["string", "null"], "format": "date-time"},
            "up_for_reconsideration": {"type": "boolean"},
        }
    ),
}
BODIES: dict[str, Any] = {
    "NewInitiative": o.obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": {"type": "string", "maxLength": 10000},
            "audience": {"enum": o.ITEM_AUDIENCES},
        },
        required=("title",),
    ),
    "TermChange": o.obj(
        {"term_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}
    ),
    "RenewRequest": o.obj({"account_id": o.ID_IN_BODY}, required=()),
}


def paths() -> dict[str, dict[str, Any]]:
    """The initiative and role-term paths."""
    return {
        o.C + "/initiatives": {
            "get": o.op(
                "Open initiatives visible to you, with their informal leads",
                o.list_of("Initiative"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": o.op(
                "Start an initiative (members): you become its informal lead",
                o.ref("RoadmapItem"),
                write=True,
                body="NewInitiative",
                created=True,
            ),
        },
        o.PREFIX + "/roles/{id}/term": {
            "post": o.op(
                "Set or clear a role's term in days (managers)",
                o.ref("RoleTerm"),
                write=True,
                body="TermChange",
            )
        },
        o.PREFIX + "/roles/{id}/renew": {
            "post": o.op(
                "Renew a holding for a new term (managers; the holder of an open role for themselves)",
                o.ref("RoleRenewal"),
                write=True,
                body="RenewRequest",
            )
        },
    }
