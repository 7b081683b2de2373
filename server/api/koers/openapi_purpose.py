"""The OpenAPI part for the purpose process: phases, proposals, decisions, endorsements (merged by ``openapi``)."""

from __future__ import annotations

from typing import Any

from server.api.koers import openapi_parts as o

PHASES = ["inventory", "discussion", "drafting", "decision", "in_force", "review"]
PHASE = o.obj(
    {
        "phase": {"enum": PHASES},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "planned_end": {"type": ["string", "null"], "format": "date-time"},
        "note": {"type": "string"},
        "set_by": o.nullable("string"),
    }
)
SCHEMAS: dict[str, Any] = {
    "PurposePhase": {"allOf": [PHASE, o.obj({"history": {"type": "array", "items": PHASE}})]},
    "Proposal": o.obj(
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
    "ProposalSent": o.obj({"post_id": o.ID, "state": {"enum": ["sent"]}}),
    "Decision": o.obj(
        {
            "id": o.ID,
            "community_id": o.ID,
            "method": {"enum": ["poll", "consent"]},
            "post_id": {"type": ["string", "null"]},
            "proposal_ids": {"type": "array", "items": o.ID},
            "opened_at": o.STAMP,
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_by": o.nullable("string"),
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
    "Endorsements": o.obj(
        {
            "version": {"type": "integer", "minimum": 1},
            "endorsed": {"type": "array", "items": o.ref("Account")},
            "pending": {"type": "array", "items": o.ref("Account")},
        }
    ),
    "Endorsed": o.obj(
        {"version": {"type": "integer", "minimum": 1}, "endorsed": {"type": "boolean"}}
    ),
}
BODIES: dict[str, Any] = {
    "PhaseChange": o.obj(
        {
            "phase": {"enum": PHASES},
            "note": {"type": "string", "maxLength": 1000},
            "planned_end": {"type": "string", "format": "date-time", "maxLength": 40},
        },
        required=("phase",),
    ),
    "NewProposal": o.obj(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 5000},
            "reason": {"type": "string", "maxLength": 2000},
        },
        required=("text",),
    ),
    "NewDecision": o.obj(
        {
            "method": {"enum": ["poll", "consent"]},
            "proposal_ids": {"type": "array", "minItems": 1, "maxItems": 3, "items": o.ID_IN_BODY},
        }
    ),
    "Consent": o.obj(
        {
            "position": {"enum": ["agree", "abstain", "disagree", "block"]},
            "reason": {"type": "string", "maxLength": 2000, "description": "required for a block"},
        },
        required=("position",),
    ),
}


def by_handle(paths: dict[str, dict[str, Any]]) -> None:
    """The purpose in force and its history are read by id or by handle@host too (``api.koers.purpose``)."""
    for path in (o.C + "/purpose", o.C + "/purpose/history"):
        o.either_id_or_handle(paths[path]["get"])


def paths() -> dict[str, dict[str, Any]]:
    """The purpose-process paths."""
    c, p = o.C + "/purpose", o.PREFIX + "/purpose"
    read_errors = ("401", "403", "404")
    create = o.op(
        "Propose a new purpose text (members); 202 when sent to a community elsewhere",
        o.ref("Proposal"),
        write=True,
        body="NewProposal",
        created=True,
    )
    create["responses"]["202"] = {
        "description": "Sent to the community's own instance",
        "content": {"application/json": {"schema": o.ref("ProposalSent")}},
    }
    found = {
        c + "/phase": {
            "get": o.op(
                "Where the purpose process stands, and its phases before",
                o.ref("PurposePhase"),
                write=False,
                errors=read_errors,
            ),
            "post": o.op(
                "Move the process to its next phase (managers)",
                o.ref("PurposePhase"),
                write=True,
                body="PhaseChange",
            ),
        },
        c + "/proposals": {
            "get": o.op(
                "Proposals visible to you, newest first",
                o.list_of("Proposal"),
                write=False,
                errors=read_errors,
            ),
            "post": create,
        },
        p + "/proposals/{id}": {
            "get": o.op(
                "One proposal with its diff", o.ref("Proposal"), write=False, errors=read_errors
            )
        },
        c + "/decisions": {
            "post": o.op(
                "Open a poll or a consent round on proposals (managers)",
                o.ref("Decision"),
                write=True,
                body="NewDecision",
                created=True,
            )
        },
        p + "/decisions/{id}": {
            "get": o.op(
                "One decision with its counts and result",
                o.ref("Decision"),
                write=False,
                errors=read_errors,
            )
        },
        p + "/decisions/{id}/consent": {
            "post": o.op(
                "Answer in a consent round (members)",
                o.ref("Decision"),
                write=True,
                body="Consent",
            )
        },
        p + "/decisions/{id}/close": {
            "post": o.op(
                "Close the decision and record the outcome (managers)",
                o.ref("Decision"),
                write=True,
            )
        },
        c + "/endorsements": {
            "get": o.op(
                "Who has and has not yet endorsed the purpose in force",
                o.ref("Endorsements"),
                write=False,
                errors=read_errors,
            ),
            "post": o.op("Endorse the purpose in force (members)", o.ref("Endorsed"), write=True),
            "delete": o.op(
                "Withdraw your endorsement of the purpose in force (members; an Undo of the Like to a "
                "community elsewhere)",
                o.ref("Endorsed"),
                write=True,
            ),
        },
    }
    for path, ops in found.items():
        if path.startswith(c):
            for op in ops.values():
                o.either_id_or_handle(op)
    return found
