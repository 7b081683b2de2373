"""The OpenAPI part for initiatives and role terms (merged by ``openapi``)."""

from __future__ import annotations

from typing import Any

from server.api.koers import openapi as o

SCHEMAS: dict[str, Any] = {
    "Initiative": {
        "allOf": [
            o._ref("RoadmapItem"),
            o._obj({"lead": o._nullable("string"), "participants_count": o.COUNT}),
        ]
    },
    "RoleTerm": o._obj({"role_id": o.ID, "term_days": {"type": ["integer", "null"], "minimum": 1}}),
    "RoleRenewal": o._obj({"role_id": o.ID, "account_id": o.ID, "ends_at": o.STAMP}),
    "HolderTerm": o._obj(
        {
            "account_id": o.ID,
            "since": o.STAMP,
            "ends_at": {"type": ["string", "null"], "format": "date-time"},
            "up_for_reconsideration": {"type": "boolean"},
        }
    ),
}
BODIES: dict[str, Any] = {
    "NewInitiative": o._obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": {"type": "string", "maxLength": 10000},
            "audience": {"enum": o.ITEM_AUDIENCES},
        },
        required=("title",),
    ),
    "TermChange": o._obj(
        {"term_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}
    ),
    "RenewRequest": o._obj({"account_id": o.ID_IN_BODY}, required=()),
}


def paths() -> dict[str, dict[str, Any]]:
    """The initiative and role-term paths."""
    return {
        o.C + "/initiatives": {
            "get": o._op(
                "Open initiatives visible to you, with their informal leads",
                o._list("Initiative"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": o._op(
                "Start an initiative (members): you become its informal lead",
                o._ref("RoadmapItem"),
                write=True,
                body="NewInitiative",
                created=True,
            ),
        },
        o.PREFIX + "/roles/{id}/term": {
            "post": o._op(
                "Set or clear a role's term in days (managers)",
                o._ref("RoleTerm"),
                write=True,
                body="TermChange",
            )
        },
        o.PREFIX + "/roles/{id}/renew": {
            "post": o._op(
                "Renew a holding for a new term (managers; the holder of an open role for themselves)",
                o._ref("RoleRenewal"),
                write=True,
                body="RenewRequest",
            )
        },
    }
