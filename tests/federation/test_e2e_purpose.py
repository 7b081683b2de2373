"""The whole purpose process between two instances: phases, proposals from both, a poll in which a
remote member votes the Mastodon way, the new version in force, and re-endorsement from both."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server import clock
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
from server.visibility import Viewer
from tests.federation.e2e_helpers import follow_remote, post_by_uri, pump

pytestmark = pytest.mark.slow


async def _community_on(inst, group_id: int) -> int:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group_id)
            )
        ).scalar_one()


async def _notes(inst, actor_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return list(
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(t.notifications.c.actor_id == actor_id)
                )
            ).scalars()
        )


async def test_purpose_process_across_two_instances(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    amir = await a.create_member("amir")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await communities.join(a.ctx, amir.actor_id, garden.id)
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    garden_on_b = await _community_on(b, group_on_b)

    # inventory → discussion → drafting
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(a.ctx, alice.actor_id, garden.id, phase)

    # Proposals from a member here and from a member on B (a community post carrying koers:proposal).
    await proposals.create_proposal(
        a.ctx, amir.actor_id, garden.id, "Grow food together for the neighbourhood", "wider"
    )
    bob_post = await proposals.create_proposal(
        b.ctx, bob.actor_id, garden_on_b, "Grow and share food together", "share"
    )
    await pump(a, b)
    alice_view = Viewer(actor_id=alice.actor_id, local=True)
    async with a.db.read() as conn:
        found = await proposals.proposals(conn, alice_view, garden.id)
        bob_on_a = (await post_by_uri(a, f"{b.url}/users/bob/posts/{bob_post}")).author_id
    assert {p.author_handle for p in found} == {"amir", f"bob@{b.settings.domain}"}
    by_bob = next(p for p in found if p.author_id == bob_on_a)
    assert by_bob.text_source == "Grow and share food together" and by_bob.reason == "share"

    # The decision: a poll between both proposals; it reaches B as a Question.
    ordered = sorted(p.id for p in found)  # "Proposal 1" is the oldest: Amir's
    decision_id = await decisions.open_decision(
        a.ctx, alice.actor_id, garden.id, "poll", ordered[::-1]
    )
    await pump(a, b)
    async with a.db.read() as conn:
        poll_post = (
            await conn.execute(
                sa.select(t.posts).where(
                    t.posts.c.id == (await decisions.get_decision(conn, decision_id)).post_id
                )
            )
        ).one()
    on_b = await post_by_uri(b, poll_post.uri)
    assert on_b is not None
    async with b.db.read() as conn:
        poll_on_b = (
            await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == on_b.id))
        ).one()
    assert poll_on_b.options == ["Proposal 1", "Proposal 2", "Keep current"]
    # Bob votes from B: B sends the Mastodon-style Create Note {name: "Proposal 2", inReplyTo: the Question}.
    await posts.vote(b.ctx, bob.actor_id, poll_on_b.id, [1])
    async with a.db.read() as conn:
        poll_on_a = (
            await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == poll_post.id))
        ).one()
    await posts.vote(a.ctx, amir.actor_id, poll_on_a.id, [1])
    await pump(a, b)
    async with a.db.read() as conn:
        votes = (
            await conn.execute(
                sa.select(t.poll_votes.c.actor_id, t.poll_votes.c.choice).where(
                    t.poll_votes.c.poll_id == poll_on_a.id
                )
            )
        ).all()
    assert sorted(tuple(v) for v in votes) == sorted([(bob_on_a, 1), (amir.actor_id, 1)])

    # Closing adopts Bob's text: version 2 in force, everyone asked to endorse again.
    await purpose_endorsements.endorse(a.ctx, amir.actor_id, garden.id)  # endorsed version 1 only
    closed = await decisions.close_decision(a.ctx, alice.actor_id, decision_id)
    assert (
        closed.result == "adopted"
        and closed.version == 2
        and closed.counts == {"Proposal 1": 0, "Proposal 2": 2, "Keep current": 0}
    )
    await pump(a, b)
    async with a.db.read() as conn:
        assert (
            await purpose.current(conn, garden.id)
        ).text_source == "Grow and share food together"
        assert (await phases.current(conn, garden.id)).phase == "in_force"
    assert "koers.endorse_requested" in await _notes(a, amir.actor_id)
    assert "koers.endorse_requested" in await _notes(b, bob.actor_id)
    async with b.db.read() as conn:  # the poll ended on B too (an Update of the Question)
        ended = (
            await conn.execute(sa.select(t.polls.c.expires_at).where(t.polls.c.id == poll_on_b.id))
        ).scalar_one()
    assert ended is not None and clock.aware(ended) <= clock.now()
    async with b.db.read() as conn:
        remote_version = await purpose.current(conn, garden_on_b)
    assert remote_version is not None and remote_version.version == 2
    assert remote_version.uri == f"{a.url}/c/garden/purpose/2"

    # Re-endorsement from both instances.
    await purpose_endorsements.endorse(a.ctx, amir.actor_id, garden.id)
    assert await purpose_endorsements.endorse(b.ctx, bob.actor_id, garden_on_b) == 2
    await pump(a, b)
    async with a.db.read() as conn:
        state = await purpose_endorsements.endorsements(conn, a.ctx, alice_view, garden.id)
    assert state.version == 2
    assert {m.id for m in state.endorsed} == {amir.actor_id, bob_on_a}
    assert [m.username for m in state.pending] == ["alice"]


async def test_remote_member_answers_a_consent_round(make_instance) -> None:
    """A consent answer from another Koers is a reply carrying ``koers:consent``; its text is the reason."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(a.ctx, alice.actor_id, garden.id, phase)
    await proposals.create_proposal(a.ctx, alice.actor_id, garden.id, "Grow tomatoes", "focus")
    async with a.db.read() as conn:
        (p,) = await proposals.proposals(
            conn, Viewer(actor_id=alice.actor_id, local=True), garden.id
        )
    decision_id = await decisions.open_decision(a.ctx, alice.actor_id, garden.id, "consent", [p.id])
    await pump(a, b)
    async with a.db.read() as conn:
        round_uri = (
            await conn.execute(
                sa.select(t.posts.c.uri).where(
                    t.posts.c.id == (await decisions.get_decision(conn, decision_id)).post_id
                )
            )
        ).scalar_one()
    round_on_b = await post_by_uri(b, round_uri)
    assert round_on_b is not None
    await posts.create_post(
        b.ctx,
        bob.actor_id,
        posts.Draft(
            "We grow far more than tomatoes.",
            audience=posts.Audience("community"),
            in_reply_to_id=round_on_b.id,
            community_id=await _community_on(b, group_on_b),
            extra={"consent": "block"},
        ),
    )
    await pump(a, b)
    async with a.db.read() as conn:
        answers = await decisions.consents(conn, decision_id)
    assert answers == [(f"bob@{b.settings.domain}", "block", "We grow far more than tomatoes.")]
    closed = await decisions.close_decision(a.ctx, alice.actor_id, decision_id)
    assert closed.result == "blocked" and closed.counts["block"] == 1


async def test_remote_member_uses_the_koers_api_of_their_own_instance(make_instance) -> None:
    """On B, the Koers API proposes to A's community (202: sent) and endorses A's new version (a Like)."""
    from tests.api.conftest import api_token
    from tests.api.koers.conftest import Caller

    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    garden_on_b = await _community_on(b, group_on_b)
    api = Caller(b, await api_token(b, "bob"), bob.actor_id)
    status, body = await api.post(
        f"/communities/{garden_on_b}/purpose/proposals", {"text": "Too early"}
    )
    assert status == 202  # B cannot know A's phase; A keeps it as a post, not as a proposal
    await pump(a, b)
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(a.ctx, alice.actor_id, garden.id, phase)
    status, body = await api.post(
        f"/communities/{garden_on_b}/purpose/proposals",
        {"text": "Grow food for all", "reason": "all"},
    )
    assert status == 202 and body["state"] == "sent"
    status, body = await api.post(f"/communities/{garden_on_b}/purpose/endorsements")
    assert (
        status == 200 and body["version"] == 1
    )  # B caught up with version 1 when bob's join was accepted
    await pump(a, b)
    async with a.db.read() as conn:
        (p,) = await proposals.proposals(
            conn, Viewer(actor_id=alice.actor_id, local=True), garden.id
        )
    assert p.text_source == "Grow food for all" and p.author_handle == f"bob@{b.settings.domain}"

    await purpose.change_purpose(
        a.ctx, alice.actor_id, garden.id, "Grow food for all", "adopted as proposed"
    )
    await pump(a, b)
    status, body = await api.post(f"/communities/{garden_on_b}/purpose/endorsements")
    assert status == 200 and body == {"version": 2, "endorsed": True}
    await pump(a, b)
    async with a.db.read() as conn:
        state = await purpose_endorsements.endorsements(
            conn, a.ctx, Viewer(actor_id=alice.actor_id, local=True), garden.id
        )
    assert [m.acct for m in state.endorsed] == [f"bob@{b.settings.domain}"]
