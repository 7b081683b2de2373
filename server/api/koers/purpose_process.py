"""Koers API: the purpose process — phases, proposals (with their diff), decisions, endorsements.

Proposals are community posts, so they are read through ``visibility.posts_visible_to``: a proposal
the caller may not see answers 404. Decisions are read through their poll or consent post likewise.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import choice, id_list, json_body, path_id, text
from server.api.koers.serialize import iso, to_account_json
from server.errors import NotFound, ValidationError
from server.keys import CTX
from server.services import communities, purpose, remote_communities
from server.services import purpose_decisions as decisions
from server.services import purpose_endorsements as endorsements
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.visibility import Viewer, can_see_post

PREFIX = "/api/koers/v1"
C = PREFIX + r"/communities/{id}/purpose"
routes = web.RouteTableDef()
REMOTE = re.compile(
    r"^(?P<handle>[A-Za-z0-9_]{1,64})@(?P<host>[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?)$"
)


async def community_id_of(request: web.Request) -> int:
    """The community of ``{id}``: a numeric id, or ``handle@host`` for a community on another instance
    that this instance knows (one of its members joined it); NotFound otherwise."""
    raw = request.match_info["id"]
    match = REMOTE.match(raw)
    if match is None:
        return path_id(request)
    async with request.app[CTX].db.read() as conn:
        rc = await remote_communities.find(conn, match["handle"], match["host"])
    if rc.community is None:
        raise NotFound("no such community here yet: join it first")
    return rc.community.id


def _phase_json(p: phases.Phase) -> dict[str, Any]:
    return {
        "phase": p.phase,
        "started_at": iso(p.started_at),
        "planned_end": iso(p.planned_end),
        "note": p.note,
        "set_by": p.set_by_username,
    }


def _proposal_json(p: proposals.Proposal, diff: str | None = None) -> dict[str, Any]:
    out = {
        "id": str(p.id),
        "community_id": str(p.community_id),
        "post_id": str(p.post_id),
        "author": p.author_handle,
        "text": p.text_source,
        "reason": p.reason,
        "base_version": p.base_version,
        "state": p.state,
        "decision_id": str(p.decision_id) if p.decision_id else None,
        "replies_count": p.replies_count,
        "created_at": iso(p.created_at),
    }
    if diff is not None:
        out["diff_html"] = diff
    return out


def _decision_json(d: decisions.Decision) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "community_id": str(d.community_id),
        "method": d.method,
        "post_id": str(d.post_id) if d.post_id else None,
        "proposal_ids": [str(i) for i in d.proposal_ids],
        "opened_at": iso(d.opened_at),
        "closed_at": iso(d.closed_at),
        "closed_by": d.closed_by,
        "result": d.result,
        "counts": d.counts,
        "adopted_proposal_id": str(d.adopted_proposal_id) if d.adopted_proposal_id else None,
        "version": d.version,
    }


async def _phase_response(request: web.Request, community_id: int) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        now = await phases.current(conn, community_id)
        history = await phases.history(conn, community_id)
    return web.json_response({**_phase_json(now), "history": [_phase_json(p) for p in history]})


@routes.get(C + "/phase")
async def get_phase(request: web.Request) -> web.Response:
    """Where the purpose process stands, with the phases before."""
    await authenticate(request, "read", required=False)
    return await _phase_response(request, await community_id_of(request))


@routes.post(C + "/phase")
async def set_phase(request: web.Request) -> web.Response:
    """A manager moves the process to its next phase."""
    auth = await user_auth(request, "write")
    community_id = await community_id_of(request)
    body = await json_body(request)
    phase = choice(body, "phase", phases.PHASES, required=True)
    note = text(body, "note", max_len=phases.MAX_NOTE)
    raw_end = text(body, "planned_end", max_len=40)
    try:
        planned_end = datetime.fromisoformat(raw_end.replace("Z", "+00:00")) if raw_end else None
    except ValueError:
        raise ValidationError(
            "planned_end: an ISO 8601 date or date-time", field="planned_end"
        ) from None
    if planned_end is not None and planned_end.tzinfo is None:
        planned_end = planned_end.replace(tzinfo=UTC)  # without an offset: UTC
    await phases.set_phase(
        request.app[CTX],
        auth.need_user(),
        community_id,
        str(phase),
        planned_end=planned_end,
        note=note,
    )
    return await _phase_response(request, community_id)


@routes.get(C + "/proposals")
async def list_proposals(request: web.Request) -> web.Response:
    """The proposals the caller may see, newest first."""
    auth = await authenticate(request, "read", required=False)
    community_id = await community_id_of(request)
    async with request.app[CTX].db.read() as conn:
        await communities.get(conn, community_id)
        found = await proposals.proposals(conn, auth.viewer, community_id)
    return web.json_response([_proposal_json(p) for p in found])


async def _proposal_response(
    request: web.Request, viewer: Viewer, proposal_id: int, status: int = 200
) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        p = await proposals.get_proposal(conn, viewer, proposal_id)
        diff = await proposals.diff_against_current(conn, p)
    return web.json_response(_proposal_json(p, str(diff)), status=status)


@routes.post(C + "/proposals")
async def create_proposal(request: web.Request) -> web.Response:
    """A member proposes a new text. For a community on another instance the proposal is sent there (202)."""
    auth = await user_auth(request, "write")
    community_id = await community_id_of(request)
    body = await json_body(request)
    new_text = text(body, "text", required=True, max_len=purpose.MAX_PURPOSE)
    reason = text(body, "reason", max_len=purpose.MAX_REASON)
    ctx = request.app[CTX]
    post_id = await proposals.create_proposal(ctx, auth.need_user(), community_id, new_text, reason)
    async with ctx.db.read() as conn:
        found = [
            p
            for p in await proposals.proposals(conn, auth.viewer, community_id)
            if p.post_id == post_id
        ]
    if not found:
        return web.json_response({"post_id": str(post_id), "state": "sent"}, status=202)
    return await _proposal_response(request, auth.viewer, found[0].id, status=201)


@routes.get(PREFIX + r"/purpose/proposals/{id}")
async def get_proposal(request: web.Request) -> web.Response:
    """One proposal with its diff against the purpose in force (HTML with ``<ins>``/``<del>``)."""
    auth = await authenticate(request, "read", required=False)
    return await _proposal_response(request, auth.viewer, path_id(request))


async def _decision_response(
    request: web.Request, viewer: Viewer, decision_id: int, status: int = 200
) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        d = await decisions.get_decision(conn, decision_id)
        if d.post_id is None or not await can_see_post(conn, viewer, d.post_id):
            raise NotFound("no such decision")
    return web.json_response(_decision_json(d), status=status)


@routes.post(C + "/decisions")
async def open_decision(request: web.Request) -> web.Response:
    """A manager puts proposals to a poll or a consent round."""
    auth = await user_auth(request, "write")
    community_id = await community_id_of(request)
    body = await json_body(request)
    method = choice(body, "method", decisions.METHODS, required=True)
    ids = id_list(body, "proposal_ids", max_items=decisions.MAX_POLL_PROPOSALS)
    decision_id = await decisions.open_decision(
        request.app[CTX], auth.need_user(), community_id, str(method), list(ids)
    )
    return await _decision_response(request, auth.viewer, decision_id, status=201)


@routes.get(PREFIX + r"/purpose/decisions/{id}")
async def get_decision(request: web.Request) -> web.Response:
    """A decision with its counts (live while open) and, once closed, its result."""
    auth = await authenticate(request, "read", required=False)
    return await _decision_response(request, auth.viewer, path_id(request))


@routes.post(PREFIX + r"/purpose/decisions/{id}/consent")
async def consent(request: web.Request) -> web.Response:
    """A member's answer in a consent round (a block needs a reason)."""
    auth = await user_auth(request, "write")
    body = await json_body(request)
    position = choice(body, "position", decisions.POSITIONS, required=True)
    reason = text(body, "reason", max_len=purpose.MAX_REASON)
    await decisions.consent(
        request.app[CTX], auth.need_user(), path_id(request), str(position), reason
    )
    return await _decision_response(request, auth.viewer, path_id(request))


@routes.post(PREFIX + r"/purpose/decisions/{id}/close")
async def close(request: web.Request) -> web.Response:
    """A manager closes the decision; an adopted proposal becomes the next purpose version."""
    auth = await user_auth(request, "write")
    await decisions.close_decision(request.app[CTX], auth.need_user(), path_id(request))
    return await _decision_response(request, auth.viewer, path_id(request))


@routes.get(C + "/endorsements")
async def list_endorsements(request: web.Request) -> web.Response:
    """Who has endorsed the version in force and who has not yet (when the member list is visible)."""
    auth = await authenticate(request, "read", required=False)
    community_id = await community_id_of(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        found = await endorsements.endorsements(conn, ctx, auth.viewer, community_id)
    if found is None:
        raise NotFound("this community's purpose is not known here")
    return web.json_response(
        {
            "version": found.version,
            "endorsed": [to_account_json(a) for a in found.endorsed],
            "pending": [to_account_json(a) for a in found.pending],
        }
    )


@routes.post(C + "/endorsements")
async def endorse(request: web.Request) -> web.Response:
    """Endorse the purpose in force (federates as a Like of the version to a community elsewhere)."""
    auth = await user_auth(request, "write")
    version = await endorsements.endorse(
        request.app[CTX], auth.need_user(), await community_id_of(request)
    )
    return web.json_response({"version": version, "endorsed": True})


@routes.delete(C + "/endorsements")
async def withdraw(request: web.Request) -> web.Response:
    """Withdraw one's endorsement of the purpose in force (an ``Undo`` of the ``Like`` to a community elsewhere)."""
    auth = await user_auth(request, "write")
    community_id = await community_id_of(request)
    await endorsements.withdraw(request.app[CTX], auth.need_user(), community_id)
    async with request.app[CTX].db.read() as conn:
        now = await purpose.current(conn, community_id)
    assert now is not None  # withdraw raised NotFound otherwise
    return web.json_response({"version": now.version, "endorsed": False})
