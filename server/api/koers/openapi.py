"""The OpenAPI 3.1 document of the Koers API, served at ``/api/koers/v1/openapi.json``.

Kept next to the handlers as a Python structure; a test checks that every registered route is
described here and every described operation is registered, and a schemathesis run fuzzes it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import __version__ as koers_version

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()

ERROR_STATUSES = {
    "400": "Malformed input (not JSON, not an object, bad query parameter)",
    "401": "Missing, unknown, revoked or expired access token",
    "403": "The token lacks the scope, or the caller may not do this",
    "404": "No such object, or it is not visible to the caller",
    "409": "Conflicts with the current state",
    "422": "A field has the wrong type, is missing or is too long",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _obj(props: dict[str, Any], *, required: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(required if required is not None else props),
    }


ID = {"type": "string", "pattern": "^[0-9]+$"}
STAMP = {"type": "string", "format": "date-time"}
ACCOUNT = _obj(
    {
        "id": ID,
        "username": {"type": "string"},
        "acct": {"type": "string"},
        "display_name": {"type": "string"},
        "url": {"type": "string"},
        "avatar": _nullable("string"),
    }
)
STATUSES = ["idea", "planned", "in_progress", "done", "dropped"]
AUDIENCES = ["public", "unlisted", "followers", "community", "members", "partners", "direct"]
ITEM_AUDIENCES = ["public", "unlisted", "community", "members", "partners"]
IDEA_STATUSES = ["open", "merged", "promoted", "declined"]

COUNT = {"type": "integer", "minimum": 0}
PROFILES = ["catalyst", "engager", "responder", "broadcaster", "observer"]
ACTIVITY_KINDS = ["posts", "reply", "mention", "boost", "like", "credit", "role", "roadmap"]
KIND_COUNTS = _obj({k: COUNT for k in ("reply", "mention", "boost", "like", "credit")})
WEEKLY = {"type": "array", "items": COUNT}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": {"type": "string"},
            "error_description": {"type": "string"},
            "field": {"type": "string"},
        },
        required=("error",),
    ),
    "Account": ACCOUNT,
    "Community": _obj(
        {
            "id": ID,
            "account_id": ID,
            "handle": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "url": {"type": "string"},
            "uri": {"type": "string"},
            "openness": {"enum": ["open", "approval", "invite"]},
            "member_list_visibility": {"enum": ["public", "members", "instance"]},
            "members_count": {"type": "integer", "minimum": 0},
            "membership": {"enum": ["accepted", "pending", None]},
            "manager": {"type": "boolean"},
            "created_at": STAMP,
        }
    ),
    "PurposeVersion": _obj(
        {
            "version": {"type": "integer", "minimum": 1},
            "text": {"type": "string"},
            "html": {"type": "string"},
            "reason": {"type": "string"},
            "author": _nullable("string"),
            "uri": _nullable("string"),
            "created_at": STAMP,
        }
    ),
    "Role": _obj(
        {
            "id": ID,
            "community_id": ID,
            "name": {"type": "string"},
            "description": {"type": "string"},
            "fill_mode": {"enum": ["open", "approval", "assigned"]},
            "uri": _nullable("string"),
            "competencies": {"type": "array", "items": _ref("Competency")},
            "holders": {"type": "array", "items": _ref("Account")},
            "requested": {"type": "array", "items": _ref("Account")},
            "term_days": {"type": ["integer", "null"], "minimum": 1},
            "holder_terms": {"type": "array", "items": _ref("HolderTerm")},
        }
    ),
    "RoleHolding": _obj(
        {"role_id": ID, "account_id": ID, "state": {"enum": ["held", "requested", None]}}
    ),
    "Competency": _obj(
        {"name": {"type": "string"}, "level": {"enum": ["learning", "practised", "expert", None]}}
    ),
    "PersonWithCompetency": {
        "allOf": [
            _ref("Account"),
            _obj(
                {
                    "competency": {"type": "string"},
                    "level": {"enum": ["learning", "practised", "expert", None]},
                }
            ),
        ],
    },
    "Result": _obj(
        {
            "id": ID,
            "uri": {"type": "string"},
            "url": {"type": "string"},
            "title": _nullable("string"),
            "content": {"type": "string"},
            "audience": {"enum": AUDIENCES},
            "community_id": {"type": ["string", "null"]},
            "roadmap_item_id": {"type": ["string", "null"]},
            "roles": {"type": "array", "items": _obj({"id": ID, "name": {"type": "string"}})},
            "contributors": {"type": "array", "items": _ref("Account")},
            "author": _ref("Account"),
            "created_at": STAMP,
        }
    ),
    "StatusChange": _obj(
        {
            "from_status": {"enum": [*STATUSES, None]},
            "to_status": {"enum": STATUSES},
            "author": _nullable("string"),
            "note": {"type": "string"},
            "created_at": STAMP,
        }
    ),
    "RoadmapItem": _obj(
        {
            "id": ID,
            "community_id": ID,
            "title": {"type": "string"},
            "description": {"type": "string"},
            "status": {"enum": STATUSES},
            "owner_role_id": {"type": ["string", "null"]},
            "owner_role": _nullable("string"),
            "audience": {"enum": ITEM_AUDIENCES},
            "uri": _nullable("string"),
            "created_at": STAMP,
            "updated_at": STAMP,
            "history": {"type": "array", "items": _ref("StatusChange")},
            "purpose_version": {"type": ["integer", "null"], "minimum": 1},
            "lead_id": {
                "type": ["string", "null"],
                "description": "an initiative's informal lead (account id)",
            },
        },
        required=(
            "id",
            "community_id",
            "title",
            "description",
            "status",
            "owner_role_id",
            "owner_role",
            "audience",
            "uri",
            "created_at",
            "updated_at",
        ),
    ),
    "Idea": _obj(
        {
            "id": ID,
            "community_id": ID,
            "title": {"type": "string"},
            "content": {"type": "string"},
            "audience": {"enum": ["public", "community"]},
            "status": {"enum": IDEA_STATUSES},
            "author": {"type": "string"},
            "post_id": {"type": ["string", "null"]},
            "merged_into_id": {"type": ["string", "null"]},
            "promoted_to": {
                "oneOf": [
                    {"type": "null"},
                    _obj({"kind": {"enum": ["roadmap", "proposal"]}, "id": ID}),
                ]
            },
            "supports": {"type": "integer", "minimum": 0},
            "supported": {"type": "boolean"},
            "created_at": STAMP,
        }
    ),
    # insights (services.insights): counts per interaction kind, profiles, weekly series
    "InsightsPerson": _obj(
        {
            "account": _ref("Account"),
            "profile": {"enum": PROFILES},
            "leader": {"type": "boolean"},
            "informal": {"type": "boolean"},
            "manager": {"type": "boolean"},
            "holds_role": {"type": "boolean"},
            "posts": COUNT,
            "given": KIND_COUNTS,
            "received": KIND_COUNTS,
            "role_actions": COUNT,
            "roadmap_changes": COUNT,
            "responders": COUNT,
            "reached": COUNT,
            "in_degree": COUNT,
            "out_degree": COUNT,
            "responses_per_post": {"type": "number", "minimum": 0},
            "pagerank": {"type": "number", "minimum": 0},
            "centrality": {"type": "number", "minimum": 0},
            "weekly": {"type": "array", "items": COUNT},
        }
    ),
    "InsightsThresholds": _obj(
        {
            "members": COUNT,
            "observer_below": COUNT,
            "catalyst_min_responders": COUNT,
            "catalyst_min_posts": COUNT,
            "catalyst_min_response_rate": {"type": "number"},
            "broadcaster_min_posts": COUNT,
            "broadcaster_max_response_rate": {"type": "number"},
            "engager_min_reach": COUNT,
            "leader_centrality": {"type": "number"},
        }
    ),
    "Insights": _obj(
        {
            "community_id": ID,
            "weeks": {"type": "array", "items": STAMP},
            "until": STAMP,
            "thresholds": _ref("InsightsThresholds"),
            "leaders": {"type": "array", "items": ID},
            "quiet": {"type": "array", "items": ID},
            "gone_quiet": {"type": "array", "items": ID},
            "people": {"type": "array", "items": _ref("InsightsPerson")},
            "profile_counts": _obj({p: COUNT for p in PROFILES}),
            "opted_out": COUNT,
            "outsiders": COUNT,
            "outsider_interactions": COUNT,
            "weekly_activity": _obj({k: WEEKLY for k in ACTIVITY_KINDS}),
            "weekly_profiles": _obj({p: WEEKLY for p in PROFILES}),
            "totals": _obj({k: COUNT for k in ACTIVITY_KINDS}),
        }
    ),
    "InsightsOptOut": _obj(
        {
            "community_id": ID,
            "opted_out": {"type": "boolean"},
            "applies_to": {"enum": ["all_communities"]},
        }
    ),
    "MyInsights": {
        "allOf": [
            _ref("InsightsPerson"),
            _obj(
                {
                    "community_id": ID,
                    "weeks": {"type": "array", "items": STAMP},
                    "opted_out": {"type": "boolean"},
                    "thresholds": _ref("InsightsThresholds"),
                }
            ),
        ]
    },
}

ID_IN_BODY = {
    "oneOf": [
        {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"},
        {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    ]
}
BODIES: dict[str, Any] = {
    "InsightsOptOutChoice": _obj({"opted_out": {"type": "boolean"}}),
    "PurposeChange": _obj(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 5000},
            "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
        }
    ),
    "AccountRef": _obj({"account_id": ID_IN_BODY}),
    "CommunitySettings": _obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 120},
            "description": {"type": "string", "maxLength": 10000},
            "openness": {"enum": ["open", "approval", "invite"]},
            "member_list_visibility": {"enum": ["public", "members", "instance"]},
            "accept_outside_ideas": {
                "type": "boolean",
                "description": "whether outsiders' posts to the community become ideas",
            },
        }
    ),
    "Competencies": _obj(
        {
            "competencies": {
                "type": "array",
                "maxItems": 30,
                "items": _obj(
                    {
                        "name": {
                            "type": "string",
                            "maxLength": 100,
                            "description": "trimmed, lower-cased; blank names are dropped",
                        },
                        "level": {"enum": ["learning", "practised", "expert", None]},
                    },
                    required=("name",),
                ),
            }
        }
    ),
    "NewResult": _obj(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 5000},
            "title": {"type": "string", "maxLength": 255},
            "audience": {"enum": AUDIENCES},
            "roadmap_item_id": ID_IN_BODY,
            "role_ids": {"type": "array", "maxItems": 20, "items": ID_IN_BODY},
            "contributors": {
                "type": "array",
                "maxItems": 20,
                "description": "handles: name (here) or name@host",
                "items": {
                    "type": "string",
                    "pattern": "^@?[A-Za-z0-9_.-]{1,64}(@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?)?$",
                },
            },
        },
        required=("text",),
    ),
    "NewRoadmapItem": _obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": {"type": "string", "maxLength": 10000},
            "status": {"enum": STATUSES},
            "audience": {"enum": ITEM_AUDIENCES},
            "owner_role_id": ID_IN_BODY,
            "purpose_version": ID_IN_BODY,
        },
        required=("title",),
    ),
    "NewIdea": _obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "text": {"type": "string", "maxLength": 4000},
            "audience": {"enum": ["public", "community"]},
        },
        required=("title",),
    ),
    "Helper": _obj(
        {
            "account_id": ID,
            "acct": {"type": "string"},
            "display_name": {"type": "string"},
            "url": {"type": "string"},
            "member": {"type": "boolean"},
            "score": {"type": "integer", "minimum": 0},
            "competencies": {"type": "array", "items": _ref("Competency")},
        }
    ),
    "Suggestions": _obj(
        {
            "people": {
                "type": "array",
                "items": {"allOf": [_ref("Account"), _obj({"shared": {"type": "integer"}})]},
            },
            "communities": {
                "type": "array",
                "items": _obj(
                    {
                        "id": ID,
                        "name": {"type": "string"},
                        "handle": {"type": "string"},
                        "score": {"type": "integer"},
                    }
                ),
            },
        }
    ),
    "Kudos": _obj(
        {"account_id": ID_IN_BODY, "message": {"type": "string", "maxLength": 500}},
        required=("account_id",),
    ),
    "IdeaRef": _obj({"into_id": ID_IN_BODY}),
    "IdeaPromotion": _obj(
        {
            "to": {"enum": ["roadmap", "proposal"]},
            "owner_role_id": ID_IN_BODY,
            "text": {
                "type": "string",
                "maxLength": 5000,
                "description": "the proposed purpose (to: proposal)",
            },
            "reason": {"type": "string", "maxLength": 2000},
        },
        required=(),
    ),
    "StatusChangeRequest": _obj(
        {"status": {"enum": STATUSES}, "note": {"type": "string", "maxLength": 2000}},
        required=("status",),
    ),
}

OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
REQUIRED_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _path_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    }


def _op(
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
    op: dict[str, Any] = {
        "summary": summary,
        "security": REQUIRED_AUTH if write else OPTIONAL_AUTH,
        "parameters": [_path_param(p) for p in params] + (query or []),
        "responses": {
            ("201" if created else "200"): {
                "description": "Success",
                "content": {"application/json": {"schema": ok}},
            },
            **{
                code: {
                    "description": ERROR_STATUSES[code],
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for code in errors
            },
        },
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return op


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "clamped to 1..40",
    "schema": {"type": "integer", "minimum": 0},
}
MAX_ID = {
    "name": "max_id",
    "in": "query",
    "required": False,
    "description": "an id; empty is the same as absent",
    "schema": {"type": "string", "pattern": "^([0-9]{1,18})?$"},
}
C = PREFIX + "/communities/{id}"
WEEKS = {
    "name": "weeks",
    "in": "query",
    "required": False,
    "description": "whole weeks ending with this one",
    "schema": {"type": "integer", "minimum": 1, "maximum": 52},
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    paths: dict[str, dict[str, Any]] = {
        PREFIX + "/communities": {
            "get": _op(
                "List the instance's communities",
                _list("Community"),
                write=False,
                params=(),
                errors=("401", "403"),
            )
        },
        C: {
            "get": _op(
                "One community", _ref("Community"), write=False, errors=("401", "403", "404")
            ),
            "patch": _op(
                "Change a community's settings (managers; omitted fields stay); other instances get an "
                "Update of the Group",
                _ref("Community"),
                write=True,
                body="CommunitySettings",
            ),
        },
        C + "/join": {
            "post": _op("Join (or ask to join) a community", _ref("Community"), write=True)
        },
        C + "/leave": {
            "post": _op("Leave a community or withdraw a request", _ref("Community"), write=True)
        },
        C + "/members": {
            "get": _op(
                "Members (when the member list is visible)",
                _list("Account"),
                write=False,
                errors=("401", "403", "404"),
            )
        },
        C + "/purpose": {
            "get": _op(
                "The current purpose",
                _ref("PurposeVersion"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": _op(
                "Change the purpose (community managers)",
                _ref("PurposeVersion"),
                write=True,
                body="PurposeChange",
                created=True,
            ),
        },
        C + "/purpose/history": {
            "get": _op(
                "Every purpose version, newest first",
                _list("PurposeVersion"),
                write=False,
                errors=("401", "403", "404"),
            )
        },
        C + "/roles": {
            "get": _op(
                "A community's roles", _list("Role"), write=False, errors=("401", "403", "404")
            )
        },
        PREFIX + "/roles/{id}/claim": {
            "post": _op("Claim a role (or ask for it)", _ref("RoleHolding"), write=True)
        },
        PREFIX + "/roles/{id}/release": {
            "post": _op("Give a role up", _ref("RoleHolding"), write=True)
        },
        PREFIX + "/roles/{id}/assign": {
            "post": _op(
                "Assign a role (managers)", _ref("RoleHolding"), write=True, body="AccountRef"
            )
        },
        PREFIX + "/roles/{id}/unassign": {
            "post": _op(
                "Take a role away (managers)", _ref("RoleHolding"), write=True, body="AccountRef"
            )
        },
        PREFIX + "/competencies": {
            "get": _op(
                "Your competencies",
                _list("Competency"),
                write=False,
                params=(),
                errors=("401", "403", "422"),
            ),
            "put": _op(
                "Replace your competencies",
                _list("Competency"),
                write=True,
                params=(),
                body="Competencies",
                errors=("400", "401", "403", "422"),
            ),
        },
        PREFIX + "/people": {
            "get": _op(
                "People with a competency (prefix match), experts first",
                _list("PersonWithCompetency"),
                write=False,
                params=(),
                errors=("400", "401", "403", "422"),
                query=[
                    {
                        "name": "competency",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                    },
                    {**LIMIT, "description": "clamped to 1..80"},
                ],
            )
        },
        C + "/results": {
            "get": _op(
                "A community's results, newest first",
                _list("Result"),
                write=False,
                query=[MAX_ID, LIMIT],
                errors=("400", "401", "403", "404"),
            ),
            "post": _op(
                "Publish a result to the community",
                _ref("Result"),
                write=True,
                body="NewResult",
                created=True,
            ),
        },
        C + "/roadmap": {
            "get": _op(
                "Roadmap items visible to you",
                _list("RoadmapItem"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": _op(
                "Add a roadmap item",
                _ref("RoadmapItem"),
                write=True,
                body="NewRoadmapItem",
                created=True,
            ),
        },
        C + "/roadmap/{item_id}": {
            "get": _op(
                "One roadmap item with its status history",
                _ref("RoadmapItem"),
                write=False,
                params=("id", "item_id"),
                errors=("401", "403", "404"),
            )
        },
        C + "/roadmap/{item_id}/status": {
            "post": _op(
                "Change an item's status",
                _ref("RoadmapItem"),
                write=True,
                body="StatusChangeRequest",
                params=("id", "item_id"),
            )
        },
        C + "/ideas": {
            "get": _op(
                "The idea box, most supported first",
                _list("Idea"),
                write=False,
                errors=("400", "401", "403", "404"),
                query=[
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": IDEA_STATUSES},
                    }
                ],
            ),
            "post": _op(
                "Add an idea (members)", _ref("Idea"), write=True, body="NewIdea", created=True
            ),
        },
        PREFIX + "/ideas/{id}": {
            "get": _op("One idea", _ref("Idea"), write=False, errors=("401", "403", "404"))
        },
        PREFIX + "/ideas/{id}/support": {
            "post": _op("Support an open idea (once per person)", _ref("Idea"), write=True)
        },
        PREFIX + "/ideas/{id}/unsupport": {
            "post": _op("Withdraw your support", _ref("Idea"), write=True)
        },
        PREFIX + "/ideas/{id}/merge": {
            "post": _op(
                "Merge a duplicate into another idea (managers)",
                _ref("Idea"),
                write=True,
                body="IdeaRef",
            )
        },
        PREFIX + "/ideas/{id}/promote": {
            "post": _op(
                "Turn an idea into a roadmap item (managers)",
                _ref("Idea"),
                write=True,
                body="IdeaPromotion",
            )
        },
        C + "/insights": {
            "get": _op(
                "Insights for community managers: informal leaders, quiet members, profiles, weekly trends",
                _ref("Insights"),
                write=False,
                query=[WEEKS],
                errors=("400", "401", "403", "404"),
            )
        },
        C + "/insights/me": {
            "get": _op(
                "Your own insights profile in a community (members)",
                _ref("MyInsights"),
                write=False,
                query=[WEEKS],
                errors=("400", "401", "403", "404"),
            )
        },
        C + "/insights/opt_out": {
            "get": _op(
                "Whether you are left out of community insights (one choice for every community)",
                _ref("InsightsOptOut"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "put": _op(
                "Leave community insights (managers see you only in totals) or take part again",
                _ref("InsightsOptOut"),
                write=True,
                body="InsightsOptOutChoice",
                errors=("400", "401", "403", "404", "422"),
            ),
        },
        PREFIX + "/roles/{id}/helpers": {
            "get": _op(
                "Who can help: people whose competencies match the role's",
                _list("Helper"),
                write=False,
                errors=("401", "403", "404"),
            )
        },
        PREFIX + "/suggestions": {
            "get": _op(
                "People and communities that share your competencies",
                _ref("Suggestions"),
                write=False,
                params=(),
                errors=("401", "403"),
            )
        },
        PREFIX + "/results/{id}/kudos": {
            "post": _op(
                "Give kudos to someone a result credits (a reply mentioning them)",
                _ref("Result"),
                write=True,
                body="Kudos",
                created=True,
            )
        },
        PREFIX + "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": OPTIONAL_AUTH,
                "responses": {
                    "200": {
                        "description": "The OpenAPI document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    from server.api.koers import openapi_events

    paths.update(openapi_events.paths())
    from server.api.koers import openapi_purpose

    paths.update(openapi_purpose.paths())
    openapi_purpose.by_handle(paths)  # the purpose reads also take handle@host
    from server.api.koers import openapi_initiatives

    paths.update(openapi_initiatives.paths())
    from server.api.koers import openapi_remote

    paths.update(openapi_remote.paths())
    openapi_remote.by_handle(paths)  # roadmap and idea-box reads also take handle@host
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Koers API",
            "version": koers_version,
            "description": "What the Mastodon client API has no words for: communities, purpose, roles, "
            "competencies, results and roadmaps. Use the same OAuth 2 bearer tokens as the Mastodon API; "
            "reads need the `read` scope (or no token for public data), writes the `write` scope.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                **SCHEMAS,
                **BODIES,
                **openapi_events.SCHEMAS,
                **openapi_events.BODIES,
                **openapi_purpose.SCHEMAS,
                **openapi_purpose.BODIES,
                **openapi_initiatives.SCHEMAS,
                **openapi_initiatives.BODIES,
                **openapi_remote.SCHEMAS,
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An OAuth 2 access token from /oauth/token",
                }
            },
        },
    }


@routes.get(PREFIX + "/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    """Serve the document (no authentication needed)."""
    return web.json_response(document(), headers={"Access-Control-Allow-Origin": "*"})
