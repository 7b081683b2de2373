"""Building blocks of the Koers API's OpenAPI document (``openapi.py`` and its ``openapi_*`` parts).

Shared by the document and the parts that describe one area each, so the parts need not import
the document that gathers them.
"""

from __future__ import annotations

from typing import Any

PREFIX = "/api/koers/v1"
ITEM_AUDIENCES = ["public", "unlisted", "community", "members", "partners"]
COUNT = {"type": "integer", "minimum": 0}

ERROR_STATUSES = {
    "400": "Malformed input (not JSON, not an object, bad query parameter)",
    "401": "Missing, unknown, revoked or expired access token",
    "403": "The token lacks the scope, or the caller may not do this",
    "404": "No such object, or it is not visible to the caller",
    "409": "Conflicts with the current state",
    "422": "A field has the wrong type, is missing or is too long",
}


def ref(name: str) -> dict[str, str]:
    """A reference to the schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str) -> dict[str, Any]:
    """A value of type ``kind`` or null."""
    return {"type": [kind, "null"]}


def obj(props: dict[str, Any], *, required: tuple[str, ...] | None = None) -> dict[str, Any]:
    """An object schema; every property is required unless ``required`` names fewer."""
    return {
        "type": "object",
        "properties": props,
        "required": list(required if required is not None else props),
    }


ID = {"type": "string", "pattern": "^[0-9]+$"}
STAMP = {"type": "string", "format": "date-time"}
ID_IN_BODY = {
    "oneOf": [
        {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"},
        {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    ]
}
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
REQUIRED_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def path_param(name: str) -> dict[str, Any]:
    """A required integer path parameter."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    }


def op(
    summary: str,
    ok: Any,
    *,
    write: bool,
    body: str | None = None,
    params: tuple[str, ...] = ("id",),
    query: list[dict[str, Any]] | None = None,
    created: bool = False,
    errors: tuple[str, ...] = ("400", "401", "403", "404", "409", "422"),
) -> dict[str, Any]:
    """One operation: parameters, body, the success response and the error responses it may give."""
    operation: dict[str, Any] = {
        "summary": summary,
        "security": REQUIRED_AUTH if write else OPTIONAL_AUTH,
        "parameters": [path_param(p) for p in params] + (query or []),
        "responses": {
            ("201" if created else "200"): {
                "description": "Success",
                "content": {"application/json": {"schema": ok}},
            },
            **{
                code: {
                    "description": ERROR_STATUSES[code],
                    "content": {"application/json": {"schema": ref("Error")}},
                }
                for code in errors
            },
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


def list_of(name: str) -> dict[str, Any]:
    """An array of the schema ``name``."""
    return {"type": "array", "items": ref(name)}


C = PREFIX + "/communities/{id}"

COMMUNITY_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "the community's id, or handle@host for a community on another instance that one of this "
    "instance's members joined (its purpose process runs there; taking part here federates)",
    "schema": {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
            {
                "type": "string",
                "pattern": "^[A-Za-z0-9_]{1,64}@[A-Za-z0-9.\\-]{1,253}(:[0-9]{1,5})?$",
            },
        ]
    },
}


def either_id_or_handle(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation on a community addressed by id or by handle@host."""
    operation["parameters"] = [
        COMMUNITY_PARAM if p.get("name") == "id" else p for p in operation["parameters"]
    ]
    return operation
