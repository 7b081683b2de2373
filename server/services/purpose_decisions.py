"""Deciding on purpose proposals: a poll or a consent round, opened and closed by a manager.

A *poll* is a real poll post (a ``Question`` for the fediverse) addressed to the community, so any
member votes from a Mastodon app; its options are "Adopt" / "Keep current" for one proposal, or one
per proposal plus "Keep current". A *consent round* is a post replying to the proposal; members
answer agree / abstain / disagree / block (a block needs a reason) here, or — from another Koers
instance — by a reply carrying ``koers:consent`` whose text is the reason. Closing records who
decided, the counts and the result; an adopted proposal becomes the next purpose version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.events import Event
from server.i18n.messages import Message
from server.services import notifications, posts, purpose, text
from server.services.communities import require_manager
from server.services.purpose_phases import (
    current as current_phase,
)
from server.services.purpose_phases import (
    insert_phase,
    is_local,
    require_local,
)
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Audience

log = logging.getLogger(__name__)

METHODS = ("poll", "consent")
POSITIONS = ("agree", "abstain", "disagree", "block")
KEEP = "Keep current"
# What a consent answer without a reason says in a fediverse app.
SAYS = {
    "agree": "I agree.",
    "abstain": "I abstain.",
    "disagree": "I disagree.",
    "block": "I block.",
}
MAX_POLL_PROPOSALS = posts.MAX_POLL_OPTIONS - 1
DEFAULT_POLL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision on one or more proposals, open or closed."""

    id: int
    community_id: int
    method: str
    post_id: int | None
    proposal_ids: tuple[int, ...]
    opened_at: datetime
    closed_at: datetime | None
    result: str | None
    counts: dict[str, int] = field(default_factory=dict)
    adopted_proposal_id: int | None = None
    version: int | None = None
    closed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def poll_options(proposal_ids: list[int]) -> list[str]:
    """The options of a decision poll, in order (the last is always "Keep current")."""
    if len(proposal_ids) == 1:
        return ["Adopt", KEEP]
    return [f"Proposal {i}" for i in range(1, len(proposal_ids) + 1)] + [KEEP]


async def _open_proposals(conn: AsyncConnection, community_id: int, ids: list[int]) -> list[sa.Row]:
    rows = list(
        await conn.execute(
            sa.select(t.purpose_proposals, t.posts.c.uri)
            .join(t.posts, t.posts.c.id == t.purpose_proposals.c.post_id)
            .where(
                t.purpose_proposals.c.id.in_(ids),
                t.purpose_proposals.c.community_id == community_id,
            )
        )
    )
    if len(rows) != len(set(ids)) or any(r.state != "open" for r in rows):
        raise ValidationError("choose open proposals of this community", field="proposal_ids")
    return sorted(rows, key=lambda r: r.id)


async def open_decision(
    ctx: Context,
    manager_id: int,
    community_id: int,
    method: str,
    proposal_ids: list[int],
    *,
    expires_in: int = DEFAULT_POLL_SECONDS,
) -> int:
    """A manager puts proposals to a decision; the process moves to the *decision* phase. Returns its id.

    Poll options follow the proposals' order of submission: "Proposal 1" is the oldest.
    """
    if method not in METHODS:
        raise ValidationError("method: poll or consent", field="method")
    proposal_ids = sorted(
        set(proposal_ids)
    )  # "Proposal 1" is the oldest; closing counts in the same order
    if not proposal_ids:
        raise ValidationError("choose at least one proposal", field="proposal_ids")
    if method == "consent" and len(proposal_ids) != 1:
        raise ValidationError("a consent round is about one proposal", field="proposal_ids")
    if len(proposal_ids) > MAX_POLL_PROPOSALS:
        raise ValidationError(
            Message("a poll compares at most %(num)s proposals", num=MAX_POLL_PROPOSALS),
            field="proposal_ids",
        )
    async with ctx.db.read() as conn:
        await require_local(conn, community_id)
        await require_manager(conn, community_id, manager_id)
        if await open_decision_of(conn, community_id) is not None:
            raise Conflict("a decision is already open; close it first", field="method")
        if (await current_phase(conn, community_id)).phase not in (
            "drafting",
            "decision",
            "review",
        ):
            raise ValidationError("decisions are opened after drafting", field="method")
        chosen = await _open_proposals(conn, community_id, proposal_ids)
    if method == "poll":
        lines = [
            f"{name}: {r.uri}" for name, r in zip(poll_options(proposal_ids), chosen, strict=False)
        ]
        source = "Decision on the purpose — which text do we adopt?\n\n" + "\n".join(lines)
        draft = posts.Draft(
            source=source,
            audience=Audience.COMMUNITY,
            community_id=community_id,
            poll=posts.PollSpec(options=tuple(poll_options(proposal_ids)), expires_in=expires_in),
        )
    else:
        draft = posts.Draft(
            source="Consent round on this proposal: reply with agree, abstain, disagree or block (a block needs a reason).",
            audience=Audience.COMMUNITY,
            community_id=community_id,
            in_reply_to_id=chosen[0].post_id,
        )
    post_id = await posts.create_post(ctx, manager_id, draft)
    async with ctx.db.write() as conn:
        # Another manager may have been quicker between the checks and the post (the post then stays as a post).
        if await open_decision_of(conn, community_id) is not None:
            raise Conflict("a decision is already open; close it first", field="method")
        await _open_proposals(conn, community_id, proposal_ids)
        res = await conn.execute(
            t.purpose_decisions.insert().values(
                community_id=community_id,
                method=method,
                post_id=post_id,
                opened_by=manager_id,
                opened_at=clock.now(),
                counts={},
            )
        )
        decision_id = inserted_id(res)
        await conn.execute(
            t.purpose_proposals.update()
            .where(t.purpose_proposals.c.id.in_(proposal_ids))
            .values(state="in_decision", decision_id=decision_id)
        )
        group = (
            await conn.execute(
                sa.select(t.communities.c.actor_id).where(t.communities.c.id == community_id)
            )
        ).scalar_one()
        await purpose.notify_members(
            conn,
            group,
            "koers.decision_opened",
            from_actor_id=manager_id,
            post_id=post_id,
            community_id=community_id,
            extra={"decision_id": decision_id},
        )
        if (await current_phase(conn, community_id)).phase != "decision":
            await insert_phase(conn, community_id, "decision", manager_id)
        event = await ctx.events.emit(
            conn,
            kinds.PURPOSE_DECISION_OPENED,
            community_id=community_id,
            decision_id=decision_id,
            post_id=post_id,
        )
    await ctx.events.committed(event)
    return decision_id


async def _decision_row(conn: AsyncConnection, decision_id: int) -> sa.Row:
    row = (
        await conn.execute(
            sa.select(t.purpose_decisions).where(t.purpose_decisions.c.id == decision_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such decision")
    return row


async def _save_consent(
    conn: AsyncConnection,
    decision: sa.Row,
    actor_id: int,
    position: str,
    reason: str,
    uri: str | None,
) -> None:
    table = t.purpose_consents
    where = (table.c.decision_id == decision.id, table.c.actor_id == actor_id)
    if (await conn.execute(sa.select(table.c.id).where(*where))).first():
        await conn.execute(
            table.update()
            .where(*where)
            .values(position=position, reason=reason, uri=uri, created_at=clock.now())
        )
    else:
        await conn.execute(
            table.insert().values(
                decision_id=decision.id,
                actor_id=actor_id,
                position=position,
                reason=reason,
                uri=uri,
                created_at=clock.now(),
            )
        )


async def consent(
    ctx: Context, actor_id: int, decision_id: int, position: str, reason: str = ""
) -> None:
    """A member's answer in a consent round (a later answer replaces the earlier one)."""
    if position not in POSITIONS:
        raise ValidationError(
            Message("position: one of %(choices)s", choices=", ".join(POSITIONS)), field="position"
        )
    if position == "block" and not reason.strip():
        raise ValidationError("reason: a block needs a reason", field="reason")
    if len(reason) > purpose.MAX_REASON:
        raise ValidationError(
            Message("reason: at most %(num)s characters", num=purpose.MAX_REASON), field="reason"
        )
    async with ctx.db.read() as conn:
        decision = await _decision_row(conn, decision_id)
        local = await is_local(conn, decision.community_id)
    if not local:
        await _consent_elsewhere(ctx, actor_id, decision, position, reason)
        return
    async with ctx.db.write() as conn:
        decision = await _decision_row(conn, decision_id)
        await _check_open_round(conn, decision, actor_id)
        await _save_consent(conn, decision, actor_id, position, reason.strip(), None)


async def _check_open_round(conn: AsyncConnection, decision: sa.Row, actor_id: int) -> None:
    if decision.method != "consent" or decision.closed_at is not None:
        raise Conflict("this is not an open consent round", field="position")
    if not await posts.is_member(conn, decision.community_id, actor_id):
        raise Forbidden("only members of the community take part in its consent rounds")


async def _consent_elsewhere(
    ctx: Context, actor_id: int, decision: sa.Row, position: str, reason: str
) -> None:
    """A consent round of a community on another instance: the answer is a reply carrying ``koers:consent``
    to the round's post (its text is the reason), which that instance counts; ``index_post`` records it
    here too, so the member sees their answer."""
    async with ctx.db.read() as conn:
        await _check_open_round(conn, decision, actor_id)
        if decision.post_id is None:
            raise NotFound("the post of this consent round is not known here")
    draft = posts.Draft(
        source=reason.strip() or SAYS[position],
        audience=Audience.COMMUNITY,
        community_id=decision.community_id,
        in_reply_to_id=decision.post_id,
        extra={"consent": position},
    )
    await posts.create_post(ctx, actor_id, draft)


async def record_consent_reply(conn: AsyncConnection, post: sa.Row) -> None:
    """A reply carrying ``koers:consent`` to an open consent round (from any instance): its text is the reason."""
    decision = (
        await conn.execute(
            sa.select(t.purpose_decisions).where(
                t.purpose_decisions.c.post_id == post.in_reply_to_id,
                t.purpose_decisions.c.method == "consent",
                t.purpose_decisions.c.closed_at.is_(None),
            )
        )
    ).first()
    position = post.extra.get("consent")
    if (
        decision is None
        or position not in POSITIONS
        or not await posts.is_member(conn, decision.community_id, post.author_id)
    ):
        return
    reason = text.html_to_text(post.content_html)[: purpose.MAX_REASON]
    if position == "block" and not reason.strip():
        return
    await _save_consent(conn, decision, post.author_id, position, reason, post.uri)


async def tally(conn: AsyncConnection, decision: sa.Row) -> dict[str, int]:
    """The counts so far: votes per poll option, or answers per consent position."""
    if decision.method == "consent":
        # For a community on another instance these are the answers given from here (counted there).
        rows = await conn.execute(
            sa.select(t.purpose_consents.c.position, sa.func.count())
            .where(t.purpose_consents.c.decision_id == decision.id)
            .group_by(t.purpose_consents.c.position)
        )
        given: dict[str, int] = dict(rows.all())
        return {p: int(given.get(p, 0)) for p in POSITIONS}
    poll = (
        await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == decision.post_id))
    ).first()
    if poll is None:
        return {}
    if isinstance(poll.remote_counts, list) and len(poll.remote_counts) == len(poll.options):
        # A community on another instance: its poll's counts as it last told us (votes are counted there).
        return {
            name: int(n) if isinstance(n, int) else 0
            for name, n in zip(poll.options, poll.remote_counts, strict=True)
        }
    rows = await conn.execute(
        sa.select(t.poll_votes.c.choice, sa.func.count())
        .where(t.poll_votes.c.poll_id == poll.id)
        .group_by(t.poll_votes.c.choice)
    )
    found: dict[int, int] = dict(rows.all())
    return {name: int(found.get(i, 0)) for i, name in enumerate(poll.options)}


def _outcome(method: str, counts: dict[str, int], proposals: list[sa.Row]) -> sa.Row | None:
    """The adopted proposal, or None: a poll needs a clear winner that is not "Keep current"; a consent
    round adopts with at least one agree and no block."""
    if method == "consent":
        return proposals[0] if counts.get("block", 0) == 0 and counts.get("agree", 0) > 0 else None
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    if (
        not ranked
        or ranked[0][1] == 0
        or (len(ranked) > 1 and ranked[0][1] == ranked[1][1])
        or ranked[0][0] == KEEP
    ):
        return None
    return proposals[list(counts).index(ranked[0][0])]


async def close_decision(ctx: Context, manager_id: int, decision_id: int) -> Decision:
    """A manager closes the decision: counts and result recorded; an adopted text becomes the next version."""
    events: list[Event] = []
    async with ctx.db.write() as conn:
        decision = await _decision_row(conn, decision_id)
        await require_manager(conn, decision.community_id, manager_id)
        if decision.closed_at is not None:
            raise Conflict("this decision is already closed")
        counts = await tally(conn, decision)
        chosen = list(
            await conn.execute(
                sa.select(t.purpose_proposals)
                .where(t.purpose_proposals.c.decision_id == decision.id)
                .order_by(t.purpose_proposals.c.id)
            )
        )
        adopted = _outcome(decision.method, counts, chosen)
        result = "adopted" if adopted else ("blocked" if counts.get("block") else "kept")
        version_id = None
        now = clock.now()
        if adopted is not None:
            how = "a poll" if decision.method == "poll" else "a consent round"
            reason = f"Adopted by {how} (decision {decision.id})" + (
                f": {adopted.reason}" if adopted.reason else "."
            )
            _, version_id, changed = await purpose.new_version(
                ctx, conn, decision.community_id, adopted.text_source, reason, adopted.author_id
            )
            events.append(changed)
        for p in chosen:
            state = "adopted" if adopted is not None and p.id == adopted.id else "declined"
            await conn.execute(
                t.purpose_proposals.update()
                .where(t.purpose_proposals.c.id == p.id)
                .values(state=state)
            )
        if decision.method == "poll" and decision.post_id is not None:
            # The poll ends now: an Update of the Question tells members' instances (and their apps).
            await conn.execute(
                t.polls.update().where(t.polls.c.post_id == decision.post_id).values(expires_at=now)
            )
            events.append(
                await ctx.events.emit(
                    conn, kinds.POST_UPDATED, post_id=decision.post_id, author_id=decision.opened_by
                )
            )
        await conn.execute(
            t.purpose_decisions.update()
            .where(t.purpose_decisions.c.id == decision.id)
            .values(
                closed_at=now,
                closed_by=manager_id,
                counts=counts,
                result=result,
                version_id=version_id,
                adopted_proposal_id=adopted.id if adopted is not None else None,
            )
        )
        await insert_phase(
            conn,
            decision.community_id,
            "in_force" if adopted is not None else "drafting",
            manager_id,
        )
        for p in chosen:
            await notifications.notify(
                conn,
                p.author_id,
                "koers.decision_closed",
                from_actor_id=manager_id,
                community_id=decision.community_id,
                extra={"decision_id": decision.id, "result": result},
            )
        events.append(
            await ctx.events.emit(
                conn,
                kinds.PURPOSE_DECIDED,
                community_id=decision.community_id,
                decision_id=decision.id,
                result=result,
            )
        )
        found = await get_decision(conn, decision.id)
    await ctx.events.committed(*events)
    return found


# --- reading --------------------------------------------------------------------------------------


async def get_decision(conn: AsyncConnection, decision_id: int) -> Decision:
    """One decision, with live counts while it is open."""
    row = await _decision_row(conn, decision_id)
    ids = tuple(
        r[0]
        for r in await conn.execute(
            sa.select(t.purpose_proposals.c.id)
            .where(t.purpose_proposals.c.decision_id == row.id)
            .order_by(t.purpose_proposals.c.id)
        )
    )
    version = None
    if row.version_id is not None:
        version = (
            await conn.execute(
                sa.select(t.purpose_versions.c.version).where(
                    t.purpose_versions.c.id == row.version_id
                )
            )
        ).scalar()
    closer = None
    if row.closed_by is not None:
        closer = (
            await conn.execute(sa.select(t.actors.c.username).where(t.actors.c.id == row.closed_by))
        ).scalar()
    return Decision(
        id=row.id,
        community_id=row.community_id,
        method=row.method,
        post_id=row.post_id,
        proposal_ids=ids,
        opened_at=clock.aware(row.opened_at),
        closed_at=clock.aware(row.closed_at) if row.closed_at else None,
        result=row.result,
        counts=dict(row.counts) if row.closed_at else await tally(conn, row),
        adopted_proposal_id=row.adopted_proposal_id,
        version=version,
        closed_by=closer,
    )


async def open_decision_of(conn: AsyncConnection, community_id: int) -> Decision | None:
    """The community's open decision, if any."""
    found = (
        await conn.execute(
            sa.select(t.purpose_decisions.c.id).where(
                t.purpose_decisions.c.community_id == community_id,
                t.purpose_decisions.c.closed_at.is_(None),
            )
        )
    ).scalar()
    return await get_decision(conn, found) if found is not None else None


async def decisions(conn: AsyncConnection, community_id: int) -> list[Decision]:
    """Every decision of the community, newest first."""
    found = await conn.execute(
        sa.select(t.purpose_decisions.c.id)
        .where(t.purpose_decisions.c.community_id == community_id)
        .order_by(t.purpose_decisions.c.id.desc())
    )
    return [await get_decision(conn, r[0]) for r in list(found)]


async def consents(conn: AsyncConnection, decision_id: int) -> list[tuple[str, str, str]]:
    """(handle, position, reason) of every answer in a consent round."""
    rows = await conn.execute(
        sa.select(
            t.actors.c.username,
            t.actors.c.domain,
            t.purpose_consents.c.position,
            t.purpose_consents.c.reason,
        )
        .join(t.actors, t.actors.c.id == t.purpose_consents.c.actor_id)
        .where(t.purpose_consents.c.decision_id == decision_id)
        .order_by(t.purpose_consents.c.id)
    )
    return [
        (r.username if r.domain is None else f"{r.username}@{r.domain}", r.position, r.reason)
        for r in rows
    ]


async def adopted_versions(conn: AsyncConnection, community_id: int) -> set[int]:
    """The purpose versions (numbers) that a decision adopted; the others after the first were
    set by a manager directly (``purpose.change_purpose``)."""
    rows = await conn.execute(
        sa.select(t.purpose_versions.c.version)
        .join(t.purpose_decisions, t.purpose_decisions.c.version_id == t.purpose_versions.c.id)
        .where(t.purpose_versions.c.community_id == community_id)
    )
    return {r.version for r in rows}


async def answer_of(
    conn: AsyncConnection, decision_id: int, actor_id: int | None
) -> tuple[str, str] | None:
    """(position, reason) of this person's answer in a consent round, or None."""
    if actor_id is None:
        return None
    row = (
        await conn.execute(
            sa.select(t.purpose_consents.c.position, t.purpose_consents.c.reason).where(
                t.purpose_consents.c.decision_id == decision_id,
                t.purpose_consents.c.actor_id == actor_id,
            )
        )
    ).first()
    return (row.position, row.reason) if row else None


async def poll_of(conn: AsyncConnection, decision: Decision) -> int | None:
    """The poll (``polls.id``) of a poll decision, or None."""
    if decision.method != "poll" or decision.post_id is None:
        return None
    return (
        await conn.execute(sa.select(t.polls.c.id).where(t.polls.c.post_id == decision.post_id))
    ).scalar()
