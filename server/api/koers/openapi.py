"""The OpenAPI 3.1 document of the Koers API, served at ``/api/koers/v1/openapi.json``.

Kept next to the handlers as a Python structure; a test checks that every registered route is
described here and every described operation is registered, and a schemathesis run fuzzes it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import __version__ as koers_version
from server.api.koers import (
    openapi_events,
    openapi_initiatives,
    openapi_purpose,
    openapi_remote,
)
from server.api.koers.openapi_parts import (
    COUNT,
    ID,
    ID_IN_BODY,
    ITEM_AUDIENCES,
    OPTIONAL_AUTH,
    PREFIX,
    STAMP,
    C,
    list_of,
    nullable,
    obj,
    op,
    ref,
)

routes = web.RouteTableDef()

ACCOUNT = obj(
    {
        "id": ID,
        "username": {"type": "string"},
        "acct": {"type": "string"},
        "display_name": {"type": "string"},
        "url": {"type": "string"},
        "avatar": nullable("string"),
    }
)
STATUSES = ["idea", "planned", "in_progress", "done", "dropped"]
AUDIENCES = ["public", "unlisted", "followers", "community", "members", "partners", "direct"]
IDEA_STATUSES = ["open", "merged", "promoted", "declined"]

PROFILES = ["catalyst", "engager", "responder", "broadcaster", "observer"]
ACTIVITY_KINDS = ["posts", "reply", "mention", "boost", "like", "credit", "role", "roadmap"]
KIND_COUNTS = obj({k: COUNT for k in ("reply", "mention", "boost", "like", "credit")})
WEEKLY = {"type": "array", "items": COUNT}

SCHEMAS: dict[str, Any] = {
    "Error": obj(
        {
            "error": {"type": "string"},
            "error_description": {"type": "string"},
            "field": {"type": "string"},
        },
        required=("error",),
    ),
    "Account": ACCOUNT,
    "Community": obj(
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
    "PurposeVersion": obj(
        {
            "version": {"type": "integer", "minimum": 1},
            "text": {"type": "string"},
            "html": {"type": "string"},
            "reason": {"type": "string"},
            "author": nullable("string"),
            "uri": nullable("string"),
            "created_at": STAMP,
        }
    ),
    "Role": obj(
        {
            "id": ID,
            "community_id": ID,
            "name": {"type": "string"},
            "description": {"type": "string"},
            "fill_mode": {"enum": ["open", "approval", "assigned"]},
            "uri": nullable("string"),
            "competencies": {"type": "array", "items": ref("Competency")},
            "holders": {"type": "array", "items": ref("Account")},
            "requested": {"type": "array", "items": ref("Account")},
            "term_days": {"type": ["integer", "null"], "minimum": 1},
            "holder_terms": {"type": "array", "items": ref("HolderTerm")},
        }
    ),
    "RoleHolding": obj(
        {"role_id": ID, "account_id": ID, "state": {"enum": ["held", "requested", None]}}
    ),
    "Competency": obj(
        {"name": {"type": "string"}, "level": {"enum": ["learning", "practised", "expert", None]}}
    ),
    "DirectoryPerson": {
        "allOf": [
            ref("Account"),
            obj(
                {
                    "competency": {"type": ["string", "null"]},
                    "level": {"enum": ["learning", "practised", "expert", None]},
                }
            ),
        ]
    },
    "PersonWithCompetency": {
        "allOf": [
            ref("Account"),
            obj(
                {
                    "competency": {"type": "string"},
                    "level": {"enum": ["learning", "practised", "expert", None]},
                }
            ),
        ],
    },
    "Result": obj(
        {
            "id": ID,
            "uri": {"type": "string"},
            "url": {"type": "string"},
            "title": nullable("string"),
            "content": {"type": "string"},
            "audience": {"enum": AUDIENCES},
            "community_id": {"type": ["string", "null"]},
            "roadmap_item_id": {"type": ["string", "null"]},
            "roles": {"type": "array", "items": obj({"id": ID, "name": {"type": "string"}})},
            "contributors": {"type": "array", "items": ref("Account")},
            "author": ref("Account"),
            "created_at": STAMP,
        }
    ),
    "StatusChange": obj(
        {
            "from_status": {"enum": [*STATUSES, None]},
            "to_status": {"enum": STATUSES},
            "author": nullable("string"),
            "note": {"type": "string"},
            "created_at": STAMP,
        }
    ),
    "RoadmapItem": obj(
        {
            "id": ID,
            "community_id": ID,
            "title": {"type": "string"},
            "description": {"type": "string"},
            "status": {"enum": STATUSES},
            "owner_role_id": {"type": ["string", "null"]},
            "owner_role": nullable("string"),
            "audience": {"enum": ITEM_AUDIENCES},
            "uri": nullable("string"),
            "created_at": STAMP,
            "updated_at": STAMP,
            "history": {"type": "array", "items": ref("StatusChange")},
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
    "Idea": obj(
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
                    obj({"kind": {"enum": ["roadmap", "proposal"]}, "id": ID}),
                ]
            },
            "supports": {"type": "integer", "minimum": 0},
            "supported": {"type": "boolean"},
            "created_at": STAMP,
        }
    ),
    # insights (services.insights): counts per interaction kind, profiles, weekly series
    "InsightsPerson": obj(
        {
            "account": ref("Account"),
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
    "InsightsThresholds": obj(
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
    "Insights": obj(
        {
            "community_id": ID,
            "weeks": {"type": "array", "items": STAMP},
            "until": STAMP,
            "thresholds": ref("InsightsThresholds"),
            "leaders": {"type": "array", "items": ID},
            "quiet": {"type": "array", "items": ID},
            "gone_quiet": {"type": "array", "items": ID},
            "people": {"type": "array", "items": ref("InsightsPerson")},
            "profile_counts": obj({p: COUNT for p in PROFILES}),
            "opted_out": COUNT,
            "outsiders": COUNT,
            "outsider_interactions": COUNT,
            "weekly_activity": obj({k: WEEKLY for k in ACTIVITY_KINDS}),
            "weekly_profiles": obj({p: WEEKLY for p in PROFILES}),
            "totals": obj({k: COUNT for k in ACTIVITY_KINDS}),
            "active": COUNT,
            # the same number of weeks just before, in totals: the period comparison
            "previous": {
                "oneOf": [
                    {"type": "null"},
                    obj(
                        {
                            "since": STAMP,
                            "until": STAMP,
                            "totals": obj({k: COUNT for k in ACTIVITY_KINDS}),
                            "active": COUNT,
                        }
                    ),
                ]
            },
        }
    ),
    "InsightsOptOut": obj(
        {
            "community_id": ID,
            "opted_out": {"type": "boolean"},
            "applies_to": {"enum": ["all_communities"]},
        }
    ),
    "MyInsights": {
        "allOf": [
            ref("InsightsPerson"),
            obj(
                {
                    "community_id": ID,
                    "weeks": {"type": "array", "items": STAMP},
                    "opted_out": {"type": "boolean"},
                    "thresholds": ref("InsightsThresholds"),
                }
            ),
        ]
    },
}

BODIES: dict[str, Any] = {
    "InsightsOptOutChoice": obj({"opted_out": {"type": "boolean"}}),
    "PurposeChange": obj(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 5000},
            "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
        }
    ),
    "AccountRef": obj({"account_id": ID_IN_BODY}),
    "CommunitySettings": obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 120},
            "description": {"type": "string", "maxLength": 10000},
            "openness": {"enum": ["open", "approval", "invite"]},
            "member_list_visibility": {"enum": ["public", "members", "instance"]},
            "accept_outside_ideas": {
                "type": "boolean",
                "description": "whether outsiders' posts to the community become ideas",
            },
        },
        required=(),  # a PATCH: the fields left out keep their value
    ),
    "Competencies": obj(
        {
            "competencies": {
                "type": "array",
                "maxItems": 30,
                "items": obj(
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
    "NewResult": obj(
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
    "NewRoadmapItem": obj(
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
    "NewIdea": obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "text": {"type": "string", "maxLength": 4000},
            "audience": {"enum": ["public", "community"]},
        },
        required=("title",),
    ),
    "Helper": obj(
        {
            "account_id": ID,
            "acct": {"type": "string"},
            "display_name": {"type": "string"},
            "url": {"type": "string"},
            "member": {"type": "boolean"},
            "score": {"type": "integer", "minimum": 0},
            "competencies": {"type": "array", "items": ref("Competency")},
        }
    ),
    "Suggestions": obj(
        {
            "people": {
                "type": "array",
                "items": {"allOf": [ref("Account"), obj({"shared": {"type": "integer"}})]},
            },
            "communities": {
                "type": "array",
                "items": obj(
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
    "Kudos": obj(
        {"account_id": ID_IN_BODY, "message": {"type": "string", "maxLength": 500}},
        required=("account_id",),
    ),
    "IdeaRef": obj({"into_id": ID_IN_BODY}),
    "IdeaPromotion": obj(
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
    "StatusChangeRequest": obj(
        {"status": {"enum": STATUSES}, "note": {"type": "string", "maxLength": 2000}},
        required=("status",),
    ),
}

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
            "get": op(
                "List the instance's communities",
                list_of("Community"),
                write=False,
                params=(),
                errors=("401", "403"),
            )
        },
        C: {
            "get": op("One community", ref("Community"), write=False, errors=("401", "403", "404")),
            "patch": op(
                "Change a community's settings (managers; omitted fields stay); other instances get an "
                "Update of the Group",
                ref("Community"),
                write=True,
                body="CommunitySettings",
            ),
        },
        C + "/join": {
            "post": op("Join (or ask to join) a community", ref("Community"), write=True)
        },
        C + "/leave": {
            "post": op("Leave a community or withdraw a request", ref("Community"), write=True)
        },
        C + "/members": {
            "get": op(
                "Members (when the member list is visible)",
                list_of("Account"),
                write=False,
                errors=("401", "403", "404"),
            )
        },
        C + "/purpose": {
            "get": op(
                "The current purpose",
                ref("PurposeVersion"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": op(
                "Change the purpose (community managers)",
                ref("PurposeVersion"),
                write=True,
                body="PurposeChange",
                created=True,
            ),
        },
        C + "/purpose/history": {
            "get": op(
                "Every purpose version, newest first",
                list_of("PurposeVersion"),
                write=False,
                errors=("401", "403", "404"),
            )
        },
        C + "/roles": {
            "get": op(
                "A community's roles", list_of("Role"), write=False, errors=("401", "403", "404")
            )
        },
        PREFIX + "/roles/{id}/claim": {
            "post": op("Claim a role (or ask for it)", ref("RoleHolding"), write=True)
        },
        PREFIX + "/roles/{id}/release": {
            "post": op("Give a role up", ref("RoleHolding"), write=True)
        },
        PREFIX + "/roles/{id}/assign": {
            "post": op(
                "Assign a role (managers)", ref("RoleHolding"), write=True, body="AccountRef"
            )
        },
        PREFIX + "/roles/{id}/unassign": {
            "post": op(
                "Take a role away (managers)", ref("RoleHolding"), write=True, body="AccountRef"
            )
        },
        PREFIX + "/competencies": {
            "get": op(
                "Your competencies",
                list_of("Competency"),
                write=False,
                params=(),
                errors=("401", "403", "422"),
            ),
            "put": op(
                "Replace your competencies",
                list_of("Competency"),
                write=True,
                params=(),
                body="Competencies",
                errors=("400", "401", "403", "422"),
            ),
        },
        PREFIX + "/people": {
            "get": op(
                "People with a competency (prefix match), experts first",
                list_of("PersonWithCompetency"),
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
        PREFIX + "/directory": {
            "get": op(
                "The member directory: people of this instance and its partners who want to be "
                "listed, by name, competency (at least a level), community, role and organisation",
                list_of("DirectoryPerson"),
                write=False,
                params=(),
                errors=("400", "401", "403", "422"),
                query=[
                    {"name": n, "in": "query", "required": False, "schema": sch}
                    for n, sch in (
                        ("q", {"type": "string", "maxLength": 100}),
                        ("competency", {"type": "string", "maxLength": 100}),
                        ("level", {"enum": ["learning", "practised", "expert"]}),
                        ("community_id", {"type": "integer", "minimum": 1}),
                        ("role_id", {"type": "integer", "minimum": 1}),
                        ("organisation", {"type": "string", "maxLength": 255}),
                        ("page", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    )
                ],
            )
        },
        C + "/results": {
            "get": op(
                "A community's results, newest first",
                list_of("Result"),
                write=False,
                query=[MAX_ID, LIMIT],
                errors=("400", "401", "403", "404"),
            ),
            "post": op(
                "Publish a result to the community",
                ref("Result"),
                write=True,
                body="NewResult",
                created=True,
            ),
        },
        C + "/roadmap": {
            "get": op(
                "Roadmap items visible to you",
                list_of("RoadmapItem"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "post": op(
                "Add a roadmap item",
                ref("RoadmapItem"),
                write=True,
                body="NewRoadmapItem",
                created=True,
            ),
        },
        C + "/roadmap/{item_id}": {
            "get": op(
                "One roadmap item with its status history",
                ref("RoadmapItem"),
                write=False,
                params=("id", "item_id"),
                errors=("401", "403", "404"),
            )
        },
        C + "/roadmap/{item_id}/status": {
            "post": op(
                "Change an item's status",
                ref("RoadmapItem"),
                write=True,
                body="StatusChangeRequest",
                params=("id", "item_id"),
            )
        },
        C + "/ideas": {
            "get": op(
                "The idea box, most supported first",
                list_of("Idea"),
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
            "post": op(
                "Add an idea (members)", ref("Idea"), write=True, body="NewIdea", created=True
            ),
        },
        PREFIX + "/ideas/{id}": {
            "get": op("One idea", ref("Idea"), write=False, errors=("401", "403", "404"))
        },
        PREFIX + "/ideas/{id}/support": {
            "post": op("Support an open idea (once per person)", ref("Idea"), write=True)
        },
        PREFIX + "/ideas/{id}/unsupport": {
            "post": op("Withdraw your support", ref("Idea"), write=True)
        },
        PREFIX + "/ideas/{id}/merge": {
            "post": op(
                "Merge a duplicate into another idea (managers)",
                ref("Idea"),
                write=True,
                body="IdeaRef",
            )
        },
        PREFIX + "/ideas/{id}/promote": {
            "post": op(
                "Turn an idea into a roadmap item (managers)",
                ref("Idea"),
                write=True,
                body="IdeaPromotion",
            )
        },
        C + "/insights": {
            "get": op(
                "Insights for community managers: informal leaders, quiet members, profiles, weekly trends",
                ref("Insights"),
                write=False,
                query=[WEEKS],
                errors=("400", "401", "403", "404"),
            )
        },
        C + "/insights/me": {
            "get": op(
                "Your own insights profile in a community (members)",
                ref("MyInsights"),
                write=False,
                query=[WEEKS],
                errors=("400", "401", "403", "404"),
            )
        },
        C + "/insights/opt_out": {
            "get": op(
                "Whether you are left out of community insights (one choice for every community)",
                ref("InsightsOptOut"),
                write=False,
                errors=("401", "403", "404"),
            ),
            "put": op(
                "Leave community insights (managers see you only in totals) or take part again",
                ref("InsightsOptOut"),
                write=True,
                body="InsightsOptOutChoice",
                errors=("400", "401", "403", "404", "422"),
            ),
        },
        PREFIX + "/roles/{id}/helpers": {
            "get": op(
                "Who can help: people whose competencies match the role's",
                list_of("Helper"),
                write=False,
                errors=("401", "403", "404"),
            )
        },
        PREFIX + "/suggestions": {
            "get": op(
                "People and communities that share your competencies",
                ref("Suggestions"),
                write=False,
                params=(),
                errors=("401", "403"),
            )
        },
        PREFIX + "/results/{id}/kudos": {
            "post": op(
                "Give kudos to someone a result credits (a reply mentioning them)",
                ref("Result"),
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
    paths.update(openapi_events.paths())
    paths.update(openapi_purpose.paths())
    openapi_purpose.by_handle(paths)  # the purpose reads also take handle@host
    paths.update(openapi_initiatives.paths())
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
