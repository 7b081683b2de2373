"""Web pages of the purpose process: phases, proposals with their diff, decisions, endorsement.

The purpose page itself is drawn by ``server.web.purpose_page``, which the forms here answer
with when they have a field to complain about.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from server.errors import KoersError, NotFound, ValidationError
from server.http.pages import current_user, flash, form, redirect, render, require_user
from server.http.params import as_id
from server.i18n.messages import Message
from server.keys import CTX
from server.services import posts, purpose, timelines
from server.services import purpose_decisions as decisions
from server.services import purpose_endorsements as endorsements
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.services.views import load_posts
from server.web.community_scope import Scope, int_or_none, scope
from server.web.compose import compose_options
from server.web.forms import field_errors
from server.web.purpose_diff import readable_diff
from server.web.purpose_page import POSITION_LABELS, decision_poll, purpose_page_response

routes = web.RouteTableDef()


async def _scope(request: web.Request) -> Scope:
    async with request.app[CTX].db.read() as conn:
        return await scope(request, conn)


def _date(value: str, field: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(
            Message("%(field)s: a date like 2026-12-31", field=field.replace("_", " ")), field=field
        ) from None


@routes.post("/c/{handle}/purpose/phase")
async def set_phase(request: web.Request) -> web.Response:
    """A manager moves the process to its next phase."""
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in ("phase", "planned_end", "note")}
    s = await _scope(request)
    try:
        found = await phases.set_phase(
            s.ctx,
            user.id,
            s.community.id,
            values["phase"],
            planned_end=_date(values["planned_end"], "planned_end"),
            note=values["note"],
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await purpose_page_response(
            request, status=exc.status, errors=field_errors(exc) or {}, phase_values=values
        )
    flash(
        request,
        Message(
            "The purpose process is now in the %(phase)s phase.",
            phase=phases.label_message(found.phase),
        ),
    )
    raise redirect(f"/c/{s.community.handle}/purpose")


@routes.post("/c/{handle}/purpose/proposals")
async def propose(request: web.Request) -> web.Response:
    """A member proposes a new text for the purpose."""
    user = await require_user(request)
    data = await form(request)
    values = {"text": str(data.get("text", "")), "why": str(data.get("why", ""))}
    s = await _scope(request)
    try:
        post_id = await proposals.create_proposal(
            s.ctx, user.id, s.community.id, values["text"], values["why"]
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        field = {"purpose": "text", "reason": "why"}.get(exc.field, exc.field)
        return await purpose_page_response(
            request, status=exc.status, errors={field: exc.message}, proposal_values=values
        )
    async with s.ctx.db.read() as conn:
        mine = [
            p
            for p in await proposals.proposals(conn, s.viewer, s.community.id)
            if p.post_id == post_id
        ]
    flash(request, "Your proposal is posted to the community for discussion.")
    raise redirect(
        f"/c/{s.community.handle}/purpose/proposals/{mine[0].id}"
        if mine
        else f"/c/{s.community.handle}/purpose"
    )


async def _proposal_page(
    request: web.Request,
    proposal_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    ctx = request.app[CTX]
    user = await current_user(request)
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        p = await proposals.get_proposal(conn, s.viewer, proposal_id)
        if p.community_id != s.community.id:
            raise NotFound("no such proposal in this community")
        diff = await proposals.diff_against_current(conn, p)
        now = await purpose.current(conn, s.community.id)
        decision = await decisions.get_decision(conn, p.decision_id) if p.decision_id else None
        answers = (
            await decisions.consents(conn, decision.id)
            if decision and decision.method == "consent" and s.is_member
            else []
        )
        mine = await decisions.answer_of(conn, decision.id, s.me) if decision else None
        poll = (
            await decision_poll(conn, ctx, s.viewer, decision)
            if decision and decision.is_open
            else None
        )
        # the discussion: the replies to the proposal's post, as the viewer may see them
        _, reply_ids = await timelines.thread(conn, s.viewer, p.post_id)
        shown = await load_posts(
            conn, s.viewer, [p.post_id, *reply_ids], base=ctx.base, local_domain=ctx.settings.domain
        )
    proposal_post = next((v for v in shown if v.id == p.post_id), None)
    return await render(
        request,
        "community_proposal.html",
        status=status,
        p=p,
        diff=diff,
        decision=decision,
        answers=answers,
        positions=list(POSITION_LABELS.items()),
        position_labels=POSITION_LABELS,
        readable=readable_diff(now.text_source if now else "", p.text_source),
        my_answer=mine,
        decision_poll=poll,
        replies=[v for v in shown if v.id != p.post_id],
        proposal_post=proposal_post,
        compose=await compose_options(ctx, user) if user is not None and proposal_post else None,
        errors=errors or {},
        values=values or {},
        **s.template_vars(),
    )


@routes.get(r"/c/{handle}/purpose/proposals/{proposal_id:\d+}")
async def proposal_page(request: web.Request) -> web.Response:
    """One proposal: its diff against the purpose in force, the discussion and the decision."""
    return await _proposal_page(request, int(request.match_info["proposal_id"]))


@routes.post("/c/{handle}/purpose/decisions")
async def open_decision(request: web.Request) -> web.Response:
    """A manager puts proposals to a poll or a consent round."""
    user = await require_user(request)
    data = await form(request)
    s = await _scope(request)
    method = str(data.get("method", ""))
    try:
        ids = [
            i
            for i in (int_or_none(v, "proposal_ids") for v in data.getall("proposal_ids", []))
            if i is not None
        ]
        await decisions.open_decision(s.ctx, user.id, s.community.id, method, ids)
    except KoersError as exc:
        if exc.field is None:
            raise
        return await purpose_page_response(
            request, status=exc.status, errors=field_errors(exc) or {}
        )
    flash(
        request,
        "The decision is open: members have been told."
        if method == "poll"
        else "The consent round is open.",
    )
    raise redirect(f"/c/{s.community.handle}/purpose")


@routes.post(r"/c/{handle}/purpose/decisions/{decision_id:\d+}/consent")
async def consent(request: web.Request) -> web.Response:
    """A member's answer in a consent round."""
    user = await require_user(request)
    data = await form(request)
    values = {"position": str(data.get("position", "")), "reason": str(data.get("reason", ""))}
    s = await _scope(request)
    decision_id = int(request.match_info["decision_id"])
    proposal_id = str(data.get("proposal_id", ""))
    from_purpose = data.get("back") == "purpose"
    try:
        await decisions.consent(s.ctx, user.id, decision_id, values["position"], values["reason"])
    except KoersError as exc:
        consent_errors = {f"consent_{k}": v for k, v in (field_errors(exc) or {}).items()}
        if exc.field is not None and from_purpose:
            return await purpose_page_response(
                request, status=exc.status, errors=consent_errors, consent_values=values
            )
        if exc.field is None or as_id(proposal_id) is None:
            raise
        return await _proposal_page(
            request,
            int(proposal_id),
            status=exc.status,
            errors=consent_errors,
            values=values,
        )
    flash(request, "Your answer is recorded.")
    target = (
        f"/purpose/proposals/{proposal_id}"
        if as_id(proposal_id) is not None and not from_purpose
        else "/purpose#decision-h"
    )
    raise redirect(f"/c/{s.community.handle}{target}")


@routes.post(r"/c/{handle}/purpose/decisions/{decision_id:\d+}/vote")
async def vote(request: web.Request) -> web.Response:
    """A member's vote in a decision poll, from the purpose page or a proposal's page (``back``).

    The vote is the poll's own (``posts.vote``), as a vote from a Mastodon app would be.
    """
    user = await require_user(request)
    data = await form(request)
    s = await _scope(request)
    back = str(data.get("back", ""))
    proposal_id = as_id(back)
    async with s.ctx.db.read() as conn:
        try:
            decision_id = as_id(request.match_info["decision_id"])
            if decision_id is None:
                raise NotFound("no such decision")
            decision = await decisions.get_decision(conn, decision_id)
        except NotFound:
            decision = None
        poll_id = (
            await decisions.poll_of(conn, decision)
            if decision is not None and decision.community_id == s.community.id
            else None
        )
    if decision is None or poll_id is None:
        raise NotFound("no such poll decision in this community")
    choice = as_id(data.get("choice"))
    try:
        if not decision.is_open:
            raise ValidationError("this decision is closed", field="choice")
        if choice is None:
            raise ValidationError("choose one of the options", field="choice")
        await posts.vote(s.ctx, user.id, poll_id, [choice])
    except KoersError as exc:
        if exc.field is None:
            raise
        errors = {"vote_choice": exc.message}
        if proposal_id is not None:
            return await _proposal_page(request, proposal_id, status=exc.status, errors=errors)
        return await purpose_page_response(request, status=exc.status, errors=errors)
    flash(request, "Your vote is counted.")
    target = f"/purpose/proposals/{proposal_id}" if proposal_id is not None else "/purpose"
    raise redirect(f"/c/{s.community.handle}{target}#decision-h")


@routes.post(r"/c/{handle}/purpose/decisions/{decision_id:\d+}/close")
async def close(request: web.Request) -> web.Response:
    """A manager closes the decision; the outcome is recorded."""
    user = await require_user(request)
    await form(request)
    s = await _scope(request)
    found = await decisions.close_decision(s.ctx, user.id, int(request.match_info["decision_id"]))
    flash(
        request,
        f"Decided: purpose version {found.version} is in force."
        if found.result == "adopted"
        else "Decided: the purpose stays as it is.",
    )
    raise redirect(f"/c/{s.community.handle}/purpose")


@routes.post("/c/{handle}/purpose/endorse")
async def endorse(request: web.Request) -> web.Response:
    """A member endorses the purpose in force."""
    user = await require_user(request)
    await form(request)
    s = await _scope(request)
    version = await endorsements.endorse(s.ctx, user.id, s.community.id)
    flash(
        request,
        Message("Thank you: you endorse version %(version)s of the purpose.", version=str(version)),
    )
    raise redirect(f"/c/{s.community.handle}/purpose")


@routes.post("/c/{handle}/purpose/withdraw")
async def withdraw(request: web.Request) -> web.Response:
    """A member withdraws their endorsement of the purpose in force."""
    user = await require_user(request)
    await form(request)
    s = await _scope(request)
    version = await endorsements.withdraw(s.ctx, user.id, s.community.id)
    flash(
        request,
        f"You no longer endorse version {version} of the purpose."
        if version
        else "You had not endorsed it.",
    )
    raise redirect(f"/c/{s.community.handle}/purpose")
