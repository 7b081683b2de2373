"""The purpose process of a community hosted on another instance: ``/c/{handle}@{host}/purpose``.

What this instance knows of it (the phase and its dates, the versions, the proposals and decisions
that reached us, kept up to date by ``activitypub.purpose_sync``) with the viewer's visibility, and
the forms through which a member takes part from here — each goes through the service that
federates it: endorsing is a ``Like`` of the version (withdrawing its ``Undo``), a proposal is a
community post carrying ``koers:proposal``, a vote in a decision poll the Mastodon-style reply, a
consent answer a reply carrying ``koers:consent``. The community's own instance decides.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import KoersError, NotFound, ValidationError
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.http.params import as_id
from server.i18n import N_
from server.i18n.current import Labels
from server.i18n.messages import Message
from server.keys import CTX
from server.services import (
    posts,
    purpose,
    remote_communities,
)
from server.services import (
    purpose_decisions as decisions,
)
from server.services import (
    purpose_endorsements as endorsements,
)
from server.services import (
    purpose_phases as phases,
)
from server.services import (
    purpose_proposals as proposals,
)
from server.services.remote_communities import RemoteCommunity
from server.services.views import load_posts
from server.visibility import can_see_post
from server.web.forms import field_errors
from server.web.purpose_page import POSITION_LABELS, decision_poll
from server.web.remote_communities import BASE, find_remote

routes = web.RouteTableDef()
PAGE = BASE + "/purpose"
STATE_LABELS = Labels(
    {
        "open": N_("open"),
        "in_decision": N_("being decided"),
        "adopted": N_("adopted"),
        "declined": N_("not adopted"),
    }
)


async def _page(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    found: dict[str, Any] = {}
    async with ctx.db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        membership = await remote_communities.membership(conn, rc.actor_id, who.actor_id)
        c = rc.community
        if c is not None:
            versions = await purpose.history(conn, c.id)
            listed = await proposals.proposals(conn, who, c.id)
            current_text = versions[0].text_source if versions else ""
            decision = await decisions.open_decision_of(conn, c.id)
            if decision is not None and (
                decision.post_id is None or not await can_see_post(conn, who, decision.post_id)
            ):
                decision = None
            decision_post = None
            if decision is not None and decision.post_id is not None:
                shown = await load_posts(
                    conn, who, [decision.post_id], base=ctx.base, local_domain=ctx.settings.domain
                )
                decision_post = shown[0] if shown else None
            phase = await phases.current(conn, c.id)
            past = [
                d
                for d in await decisions.decisions(conn, c.id)
                if not d.is_open
                and d.post_id is not None
                and await can_see_post(conn, who, d.post_id)
            ]
            found = {
                "phase": phase,
                "phase_history": await phases.history(conn, c.id),
                "versions": versions,
                "endorsed": await endorsements.has_endorsed(conn, c.id, who.actor_id),
                "proposals": [
                    (p, proposals.diff_html(current_text, p.text_source)) for p in listed
                ],
                "decision": decision,
                "decision_post": decision_post,
                "decision_poll": await decision_poll(conn, ctx, who, decision),
                "my_answer": await decisions.answer_of(conn, decision.id, who.actor_id)
                if decision
                else None,
                "past_decisions": past,
                "accepting_proposals": phase.phase in proposals.OPEN_PHASES,
            }
    return await render(
        request,
        "community_remote_purpose.html",
        status=status,
        rc=rc,
        membership=membership,
        errors=errors or {},
        values=values or {},
        position_labels=POSITION_LABELS,
        state_labels=STATE_LABELS,
        **found,
    )


async def _community(request: web.Request) -> tuple[RemoteCommunity, int]:
    rc = await find_remote(request)
    if rc.community is None:
        raise NotFound("this community's purpose is not known here yet")
    return rc, rc.community.id


@routes.get(PAGE)
async def purpose_page(request: web.Request) -> web.Response:
    """Phase, versions, proposals and decisions of the remote community, as known here."""
    return await _page(request)


@routes.post(PAGE + "/{action:endorse|withdraw}")
async def endorse(request: web.Request) -> web.Response:
    """Endorse the version in force (a ``Like`` to the Group) or withdraw the endorsement (its ``Undo``)."""
    user = await require_user(request)
    await form(request)
    rc, community_id = await _community(request)
    if request.match_info["action"] == "endorse":
        version = await endorsements.endorse(request.app[CTX], user.id, community_id)
        flash(
            request,
            Message(
                "You endorsed version %(version)s of the purpose; %(domain)s is told.",
                version=version,
                domain=rc.domain,
            ),
        )
    else:
        was = await endorsements.withdraw(request.app[CTX], user.id, community_id)
        flash(
            request,
            f"You no longer endorse version {was}; {rc.domain} is told."
            if was
            else "You had not endorsed it.",
        )
    raise redirect(rc.path + "/purpose")


@routes.post(PAGE + "/proposals")
async def propose(request: web.Request) -> web.Response:
    """Propose a new text: a community post carrying ``koers:proposal``, sent to the community's instance."""
    user = await require_user(request)
    data = await form(request)
    values = {"text": str(data.get("text", "")), "why": str(data.get("why", ""))}
    rc, community_id = await _community(request)
    try:
        await proposals.create_proposal(
            request.app[CTX], user.id, community_id, values["text"], values["why"]
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        field = {"purpose": "text", "reason": "why"}.get(exc.field, exc.field)
        return await _page(request, status=exc.status, errors={field: exc.message}, values=values)
    flash(request, Message("Your proposal is sent to %(domain)s for discussion.", domain=rc.domain))
    raise redirect(rc.path + "/purpose")


async def _decision_of(request: web.Request, community_id: int) -> decisions.Decision:
    decision_id = as_id(request.match_info["decision_id"])
    async with request.app[CTX].db.read() as conn:
        try:
            found = (
                await decisions.get_decision(conn, decision_id) if decision_id is not None else None
            )
        except NotFound:
            found = None
        if (
            found is None
            or found.community_id != community_id
            or found.post_id is None
            or not await can_see_post(conn, await viewer(request), found.post_id)
        ):
            raise NotFound("no such decision")
    return found


@routes.post(PAGE + r"/decisions/{decision_id:\d+}/consent")
async def consent(request: web.Request) -> web.Response:
    """Answer a consent round: a reply carrying ``koers:consent`` (a block needs a reason)."""
    user = await require_user(request)
    data = await form(request)
    values = {"position": str(data.get("position", "")), "reason": str(data.get("reason", ""))}
    rc, community_id = await _community(request)
    decision = await _decision_of(request, community_id)
    try:
        await decisions.consent(
            request.app[CTX], user.id, decision.id, values["position"], values["reason"]
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        errors = {f"consent_{k}": v for k, v in (field_errors(exc) or {}).items()}
        return await _page(request, status=exc.status, errors=errors, values=values)
    flash(request, Message("Your answer is sent to %(domain)s.", domain=rc.domain))
    raise redirect(rc.path + "/purpose")


@routes.post(PAGE + r"/decisions/{decision_id:\d+}/vote")
async def vote(request: web.Request) -> web.Response:
    """Vote in a decision poll (the vote goes to the community's instance the Mastodon way)."""
    user = await require_user(request)
    data = await form(request)
    rc, community_id = await _community(request)
    decision = await _decision_of(request, community_id)
    async with request.app[CTX].db.read() as conn:
        poll_id = await decisions.poll_of(conn, decision)
    if poll_id is None:
        raise NotFound("this decision has no poll")
    choice = as_id(data.get("choice"))
    try:
        if choice is None:
            raise ValidationError("choose one of the options", field="choice")
        await posts.vote(request.app[CTX], user.id, poll_id, [choice])
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _page(request, status=exc.status, errors={"vote_choice": exc.message})
    flash(request, Message("Your vote is sent to %(domain)s.", domain=rc.domain))
    raise redirect(rc.path + "/purpose")
