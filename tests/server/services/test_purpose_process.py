"""The purpose process: phases, proposals with diffs, decisions by poll and by consent, endorsements."""

import pytest
import sqlalchemy as sa

from server.errors import Conflict, Forbidden, ValidationError
from server.services import (
    communities,
    posts,
    purpose,
    purpose_endorsements,
)
from server.services import (
    purpose_decisions as decisions,
)
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.storage import schema as t
from server.visibility import ANONYMOUS, Viewer

TEXT = "We grow food together in the city."


async def _setup(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    cy = await instance.create_member("cy")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text=TEXT
    )
    for m in (bo, cy):
        await communities.join(instance.ctx, m.actor_id, c.id)
    return ana, bo, cy, c


async def _to_drafting(instance, ana, c):
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(instance.ctx, ana.actor_id, c.id, phase)


async def _count(instance, table):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


def _v(member):
    return Viewer(actor_id=member.actor_id, local=True)


async def test_phases_move_along_and_are_recorded(instance):
    ana, bo, _, c = await _setup(instance)
    async with instance.db.read() as conn:
        assert (await phases.current(conn, c.id)).phase == "in_force"
    with pytest.raises(Forbidden):
        await phases.set_phase(instance.ctx, bo.actor_id, c.id, "inventory")
    with pytest.raises(ValidationError):
        await phases.set_phase(
            instance.ctx, ana.actor_id, c.id, "decision"
        )  # not a next step from in force
    with pytest.raises(ValidationError):
        await phases.set_phase(instance.ctx, ana.actor_id, c.id, "nonsense")
    assert await _count(instance, t.purpose_phases) == 0
    found = await phases.set_phase(
        instance.ctx, ana.actor_id, c.id, "inventory", note="collect ideas"
    )
    assert (
        found.phase == "inventory"
        and found.started_at is not None
        and found.set_by_username == "ana"
    )
    await phases.set_phase(instance.ctx, ana.actor_id, c.id, "discussion")
    async with instance.db.read() as conn:
        assert [p.phase for p in await phases.history(conn, c.id)] == ["discussion", "inventory"]


async def test_proposal_is_a_community_post_with_a_diff(instance):
    ana, bo, _, c = await _setup(instance)
    with pytest.raises(ValidationError):  # not drafting yet
        await proposals.create_proposal(instance.ctx, bo.actor_id, c.id, "We grow food.", "shorter")
    await _to_drafting(instance, ana, c)
    outsider = await instance.create_member("dee")
    with pytest.raises(Forbidden):
        await proposals.create_proposal(instance.ctx, outsider.actor_id, c.id, "Take over.", "")
    with pytest.raises(ValidationError):
        await proposals.create_proposal(instance.ctx, bo.actor_id, c.id, "  ", "")
    assert await _count(instance, t.purpose_proposals) == 0
    post_id = await proposals.create_proposal(
        instance.ctx, bo.actor_id, c.id, "We grow and share food in the city.", "sharing"
    )
    async with instance.db.read() as conn:
        found = await proposals.proposals(conn, _v(bo), c.id)
        assert (
            [p.post_id for p in found] == [post_id]
            and found[0].author_handle == "bo"
            and found[0].state == "open"
        )
        assert (
            await proposals.proposals(conn, ANONYMOUS, c.id) == []
        )  # a community post: members only
        diff = str(await proposals.diff_against_current(conn, found[0]))
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()
        notes = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == ana.actor_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (
        '<ins aria-label="added">and share </ins>' in diff
        and '<del aria-label="removed"> together</del>' in diff
    )
    assert (
        post.audience == "community"
        and post.extra["proposal"]["text"] == "We grow and share food in the city."
    )
    assert "koers.proposal" in notes


def test_diff_escapes_and_marks_both_ways():
    html = str(proposals.diff_html("a <b> c", "a <i> c"))
    assert (
        "<del" in html
        and "&lt;b&gt;" in html
        and "<ins" in html
        and "&lt;i&gt;" in html
        and "<b>" not in html
    )


async def test_poll_decision_adopts_winner_and_asks_to_endorse_again(instance):
    ana, bo, cy, c = await _setup(instance)
    await purpose_endorsements.endorse(instance.ctx, bo.actor_id, c.id)
    await _to_drafting(instance, ana, c)
    await proposals.create_proposal(
        instance.ctx, bo.actor_id, c.id, "We grow and share food.", "share"
    )
    async with instance.db.read() as conn:
        (p,) = await proposals.proposals(conn, _v(ana), c.id)
    with pytest.raises(Forbidden):
        await decisions.open_decision(instance.ctx, bo.actor_id, c.id, "poll", [p.id])
    decision_id = await decisions.open_decision(instance.ctx, ana.actor_id, c.id, "poll", [p.id])
    with pytest.raises(Conflict):
        await decisions.open_decision(instance.ctx, ana.actor_id, c.id, "poll", [p.id])
    async with instance.db.read() as conn:
        d = await decisions.get_decision(conn, decision_id)
        poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == d.post_id))).one()
        assert (await phases.current(conn, c.id)).phase == "decision"
    assert poll.options == ["Adopt", "Keep current"]
    await posts.vote(instance.ctx, bo.actor_id, poll.id, [0])
    await posts.vote(instance.ctx, cy.actor_id, poll.id, [0])
    await posts.vote(instance.ctx, ana.actor_id, poll.id, [1])
    closed = await decisions.close_decision(instance.ctx, ana.actor_id, decision_id)
    assert (
        closed.result == "adopted"
        and closed.counts == {"Adopt": 2, "Keep current": 1}
        and closed.version == 2
    )
    assert closed.closed_by == "ana"
    async with instance.db.read() as conn:
        now = await purpose.current(conn, c.id)
        assert now.text_source == "We grow and share food." and now.author_username == "bo"
        assert (await phases.current(conn, c.id)).phase == "in_force"
        state = await purpose_endorsements.endorsements(conn, instance.ctx, _v(ana), c.id)
        notes = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == cy.actor_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (
        state.version == 2
        and state.endorsed == []
        and {m.username for m in state.pending} == {"ana", "bo", "cy"}
    )
    assert "koers.endorse_requested" in notes and "koers.decision_opened" in notes
    with pytest.raises(Conflict):
        await decisions.close_decision(instance.ctx, ana.actor_id, decision_id)


async def test_consent_round_blocked_keeps_the_purpose(instance):
    ana, bo, cy, c = await _setup(instance)
    await _to_drafting(instance, ana, c)
    await proposals.create_proposal(
        instance.ctx, bo.actor_id, c.id, "We only grow tomatoes.", "focus"
    )
    async with instance.db.read() as conn:
        (p,) = await proposals.proposals(conn, _v(ana), c.id)
    decision_id = await decisions.open_decision(instance.ctx, ana.actor_id, c.id, "consent", [p.id])
    with pytest.raises(ValidationError):
        await decisions.consent(instance.ctx, cy.actor_id, decision_id, "block", "  ")
    with pytest.raises(ValidationError):
        await decisions.consent(instance.ctx, cy.actor_id, decision_id, "maybe")
    assert await _count(instance, t.purpose_consents) == 0
    await decisions.consent(instance.ctx, bo.actor_id, decision_id, "agree")
    await decisions.consent(
        instance.ctx, cy.actor_id, decision_id, "block", "we grow more than tomatoes"
    )
    closed = await decisions.close_decision(instance.ctx, ana.actor_id, decision_id)
    assert (
        closed.result == "blocked" and closed.counts["block"] == 1 and closed.counts["agree"] == 1
    )
    async with instance.db.read() as conn:
        assert (await purpose.current(conn, c.id)).version == 1
        assert (await phases.current(conn, c.id)).phase == "drafting"
        assert ("cy", "block", "we grow more than tomatoes") in await decisions.consents(
            conn, decision_id
        )


async def test_endorsement_needs_membership_and_hidden_lists_stay_hidden(instance):
    ana, bo, _, c = await _setup(instance)
    dee = await instance.create_member("dee")
    with pytest.raises(Forbidden):
        await purpose_endorsements.endorse(instance.ctx, dee.actor_id, c.id)
    assert await purpose_endorsements.endorse(instance.ctx, bo.actor_id, c.id) == 1
    assert await purpose_endorsements.endorse(instance.ctx, bo.actor_id, c.id) == 1
    assert await _count(instance, t.purpose_endorsements) == 1
    async with instance.db.write() as conn:
        await conn.execute(t.communities.update().values(member_list_visibility="members"))
    async with instance.db.read() as conn:
        assert await purpose_endorsements.has_endorsed(conn, c.id, bo.actor_id)
        with pytest.raises(Forbidden):
            await purpose_endorsements.endorsements(conn, instance.ctx, _v(dee), c.id)
        state = await purpose_endorsements.endorsements(conn, instance.ctx, _v(bo), c.id)
    assert [m.username for m in state.endorsed] == ["bo"]
