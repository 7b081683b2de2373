"""The purpose page of a community: the text in force, the process around it, the history.

Drawn for the page itself (``server.web.communities``) and again, with the field errors, by the
forms of the purpose process (``server.web.purpose_process``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import Forbidden
from server.http.pages import render
from server.i18n import N_
from server.i18n.current import Labels
from server.keys import CTX
from server.services import purpose
from server.services import purpose_decisions as decisions
from server.services import purpose_endorsements as endorsements
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.services.view_models import PollView
from server.services.views import load_posts
from server.visibility import Viewer
from server.web.community_scope import Scope, scope
from server.web.purpose_diff import readable_diff

# A consent round's positions, in the words of the answer buttons (``_consent.html``).
POSITION_LABELS = Labels(
    {
        "agree": N_("Agree"),
        "abstain": N_("Abstain"),
        "disagree": N_("I have concerns, go ahead"),
        "block": N_("Block"),
    }
)


@dataclass(frozen=True, slots=True)
class DecisionPoll:
    """A poll decision as its page shows it: the poll with the viewer's vote, and each option's
    proposal (None for the last option, "keep the current purpose")."""

    poll: PollView
    choices: list[tuple[int, proposals.Proposal | None]]

    @property
    def results_shown(self) -> bool:
        """The counts show once the viewer has voted or the poll has ended (not before: they
        would sway the vote)."""
        return bool(self.poll.own_votes) or self.poll.expired


async def decision_poll(
    conn: AsyncConnection, ctx: Context, who: Viewer, decision: decisions.Decision | None
) -> DecisionPoll | None:
    """The poll of a poll decision, for the viewer ``who`` (None for a consent round, or a poll
    out of sight); also of a partner's community, whose poll this instance holds a copy of."""
    if decision is None or decision.method != "poll" or decision.post_id is None:
        return None
    shown = await load_posts(
        conn, who, [decision.post_id], base=ctx.base, local_domain=ctx.settings.domain
    )
    if not shown or shown[0].poll is None:
        return None
    by_id = {p.id: p for p in await proposals.proposals(conn, who, decision.community_id)}
    poll = shown[0].poll
    # Option i is the decision's i-th proposal (oldest first), the last keeps the purpose.
    choices = [
        (i, by_id.get(decision.proposal_ids[i]) if i < len(decision.proposal_ids) else None)
        for i in range(len(poll.options))
    ]
    return DecisionPoll(poll=poll, choices=choices)


async def process_context(conn: AsyncConnection, s: Scope) -> dict[str, Any]:
    """What the purpose page shows of the process, for this viewer."""
    c = s.community
    try:
        endorsed = await endorsements.endorsements(conn, s.ctx, s.viewer, c.id)
    except Forbidden:
        endorsed = None
    decision = await decisions.open_decision_of(conn, c.id)
    listed = await proposals.proposals(conn, s.viewer, c.id)
    current = await purpose.current(conn, c.id)
    in_decision = (
        [
            (p, readable_diff(current.text_source if current else "", p.text_source))
            for p in listed
            if p.id in decision.proposal_ids
        ]
        if decision is not None
        else []
    )
    return {
        "decision_proposals": in_decision,
        "my_answer": await decisions.answer_of(conn, decision.id, s.me)
        if decision is not None and decision.method == "consent"
        else None,
        "decision_poll": await decision_poll(conn, s.ctx, s.viewer, decision),
        "position_labels": POSITION_LABELS,
        "phase": await phases.current(conn, c.id),
        "phase_history": await phases.history(conn, c.id),
        "next_phases": [
            (p, phases.LABELS[p]) for p in phases.NEXT[(await phases.current(conn, c.id)).phase]
        ],
        "proposals": listed,
        "decision": decision,
        "past_decisions": await decisions.decisions(conn, c.id),
        "endorsements": endorsed,
        "i_endorsed": await endorsements.has_endorsed(conn, c.id, s.me),
        "accepting_proposals": (await phases.current(conn, c.id)).phase in proposals.OPEN_PHASES,
    }


async def purpose_page_response(
    request: web.Request, *, status: int = 200, **extra: Any
) -> web.Response:
    """The purpose page: the text in force, the process around it (``server.web.purpose_process``), history."""
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        versions = await purpose.history(conn, s.community.id)
        decided = await decisions.adopted_versions(conn, s.community.id)
        extra = {**await process_context(conn, s), **extra}
    extra.setdefault("errors", {})
    extra.setdefault(
        "values", {"purpose": versions[0].text_source if versions else "", "reason": ""}
    )
    return await render(
        request,
        "community_purpose.html",
        status=status,
        versions=versions,
        decided_versions=decided,
        direct_versions={v.version for v in versions if v.version > 1} - decided,
        **s.template_vars(),
        **extra,
    )
