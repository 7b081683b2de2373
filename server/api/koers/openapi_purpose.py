"""The OpenAPI part for the purpose process: phases, proposals, decisions, endorsements (merged by ``openapi``)."""

from __future__ import annotations

from typing import Any

from server.api.koers import openapi as o

PHASES = ["inventory", "discussion", "drafting", "decision", "in_force", "review"]
PHASE = o._obj(
    {
        "phase": {"enum": PHASES},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "planned_end": {"type": ["string", "null"], "format": "date-time"},
        "note": {"type": "string"},
        "set_by": o._nullable("string"),
    }
)
SCHEMAS: dict[str, Any] = {
    "PurposePhase": {"allOf": [PHASE, o._obj({"history": {"type": "array", "items": PHASE}})]},
    "Proposal": o._obj(
        {
            "id": o.ID,
            "community_id": o.ID,
            "post_id": o.ID,
            "author": {"type": "string"},
            "text": {"type": "string"},
            "reason": {"type": "string"},
            "base_version": {"type": "integer", "minimum": 0},
            "state": {"enum": ["open", "in_decision", "adopted", "declined"]},
            "decision_id": {"type": ["string", "null"]},
            "replies_count": o.COUNT,
            "created_at": o.STAMP,
            "diff_html": {
                "type": "string",
                "description": "word diff against the purpose in force: <ins>/<del>",
            },
        },
        required=(
            "id",
            "community_id",
            "post_id",
            "author",
            "text",
            "reason",
            "base_version",
            "state",
            "decision_id",
            "replies_count",
            "created_at",
        ),
    ),
    "ProposalSent": o._obj({"post_id": o.ID, "state": {"enum": ["sent"]}}),
    "Decision": o._obj(
        {
            "id": o.ID,
            "community_id": o.ID,
            "method": {"enum": ["poll", "consent"]},
            "post_id": {"type": ["string", "null"]},
            "proposal_ids": {"type": "array", "items": o.ID},
            "opened_at": o.STAMP,
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_by": o._nullable("string"),
            "result": {"enum": ["adopted", "kept", "blocked", None]},
            "counts": {
                "type": "object",
                "additionalProperties": o.COUNT,
                "description": "votes per poll option, or answers per consent position",
            },
            "adopted_proposal_id": {"type": ["string", "null"]},
            "version": {"type": ["integer", "null"]},
        }
    ),
    "Endorsements": o._obj(
        {
            "version": {"type": "integer", "minimum": 1},
            "endorsed": {"type": "array", "items": o._ref("Account")},
            "pending": {"type": "array", "items": o._ref("Account")},
        }
    ),
    "Endorsed": o._obj(
        {"version": {"type": "integer", "minimum": 1}, "endorsed": {"type": "boolean"}}
    ),
}
BODIES: dict[str, Any] = {
    "PhaseChange": o._obj(
        {
            "phase": {"enum": PHASES},
            "note": {"type": "string", "maxLength": 1000},
            "planned_end": {"type": "string", "format": "date-time", "maxLength": 40},
        },
        required=("phase",),
    ),
    "NewProposal": o._obj(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 5000},
            "reason": {"type": "string", "maxLength": 2000},
        },
        required=("text",),
    ),
    "NewDecision": o._obj(
        {
            "method": {"enum": ["poll", "consent"]},
            "proposal_ids": {"type": "array", "minItems": 1, "maxItems": 3, "items": o.ID_IN_BODY},
        }
    ),
    "Consent": o._obj(
        {
            "position": {"enum": ["agree", "abstain", "disagree", "block"]},
            "reason": {"type": "string", "maxLength": 2000, "description": "required for a block"},
        },
        required=("position",),
    ),
}


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


def _either(op: dict[str, Any]) -> dict[str, Any]:
    """An operation on a community addressed by id or by handle@host."""
    op["parameters"] = [COMMUNITY_PARAM if p.get("name") == "id" else p for p in op["parameters"]]
    return op


def by_handle(paths: dict[str, dict[str, Any]]) -> None:
    """The purpose in force and its history are read by id or by handle@host too (``api.koers.purpose``)."""
    for path in (o.C + "/purpose", o.C + "/purpose/history"):
        _either(paths[path]["get"])


def paths() -> dict[str, dict[str, Any]]:
    """The purpose-process paths."""
    c, p = o.C + "/purpose", o.PREFIX + "/purpose"
    read_errors = ("401", "403", "404")
    create = o._op(
        "Propose a new purpose text (members); 202 when sent to a community elsewhere",
        o._ref("Proposal"),
        write=True,
        body="NewProposal",
        created=True,
    )
    create["responses"]["202"] = {
        "description": "Sent to the community's own instance",
        "content": {"application/json": {"schema": o._ref("ProposalSent")}},
    }
    found = {
        c + "/phase": {
            "get": o._op(
                "Where the purpose process stands, and its phases before",
                o._ref("PurposePhase"),
                write=False,
                errors=read_errors,
            ),
            "post": o._op(
                "Move the process to its next phase (managers)",
                o._ref("PurposePhase"),
                write=True,
                body="PhaseChange",
            ),
        },
        c + "/proposals": {
            "get": o._op(
                "Proposals visible to you, newest first",
                o._list("Proposal"),
                write=False,
                errors=read_errors,
            ),
            "post": create,
        },
        p + "/proposals/{id}": {
            "get": o._op(
                "One proposal with its diff", o._ref("Proposal"), write=False, errors=read_errors
            )
        },
        c + "/decisions": {
            "post": o._op(
                "Open a poll or a consent round on proposals (managers)",
                o._ref("Decision"),
                write=True,
                body="NewDecision",
                created=True,
            )
        },
        p + "/decisions/{id}": {
            "get": o._op(
                "One decision with its counts and result",
                o._ref("Decision"),
                write=False,
                errors=read_errors,
            )
        },
        p + "/decisions/{id}/consent": {
            "post": o._op(
                "Answer in a consent round (members)",
                o._ref("Decision"),
                write=True,
                body="Consent",
            )
        },
        p + "/decisions/{id}/close": {
            "post": o._op(
                "Close the decision and record the outcome (managers)",
                o._ref("Decision"),
                write=True,
            )
        },
        c + "/endorsements": {
            "get": o._op(
                "Who has and has not yet endorsed the purpose in force",
                o._ref("Endorsements"),
                write=False,
                errors=read_errors,
            ),
            "post": o._op("Endorse the purpose in force (members)", o._ref("Endorsed"), write=True),
            "delete": o._op(
                "Withdraw your endorsement of the purpose in force (members; an Undo of the Like to a "
                "community elsewhere)",
                o._ref("Endorsed"),
                write=True,
            ),
        },
    }
    for path, ops in found.items():
        if path.startswith(c):
            for op in ops.values():
                _either(op)
    return found
