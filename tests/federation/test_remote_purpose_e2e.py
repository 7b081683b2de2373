"""The purpose process of A's community, taken part in from B's own pages: B shows version 1 and the
drafting phase right after the join is accepted, B's member proposes from B's page (A indexes it as a
proposal), answers A's consent round from B's page (A counts it), sees version 2 once it is in force,
endorses it and withdraws the endorsement — A's list of who endorsed follows each step."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from federation.actors import fetch_signed
from server.services import (
    communities,
    purpose,
    purpose_endorsements,
)
from server.services import (
    purpose_decisions as decisions,
)
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from tests.conftest import post_form
from tests.federation.e2e_helpers import actor_on, follow_remote, pump

pytestmark = pytest.mark.slow


async def _endorsers(a, community_id: int, manager_id: int) -> set[int]:  # type: ignore[no-untyped-def]
    async with a.db.read() as conn:
        state = await purpose_endorsements.endorsements(
            conn, a.ctx, await viewer_for_actor(conn, manager_id), community_id
        )
    assert state is not None
    return {m.id for m in state.endorsed}


async def test_member_on_b_takes_part_in_the_purpose_process_from_bs_pages(make_instance) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(a.ctx, alice.actor_id, garden.id, phase)
    client = await b.login("bob")
    page = f"/c/garden@{a.settings.domain}"
    await client.get(
        f"/authorize_interaction?uri={a.url}/communities/garden"
    )  # B learns of the Group

    # Join; right after A's Accept, B shows version 1 and the drafting phase (the catch-up sync).
    res = await post_form(client, page + "/join", {}, page=page)
    assert res.status == 302
    await pump(a, b)
    html = await (await client.get(page + "/purpose")).text()
    assert "In force: version 1" in html and "Grow food together" in html
    assert "Where the purpose stands: Drafting" in html
    assert "Phase: <strong>Drafting</strong>" in await (await client.get(page)).text()
    async with b.db.read() as conn:  # catching up on history asks once, for the version in force
        asked = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.notifications)
                .where(
                    t.notifications.c.actor_id == bob.actor_id,
                    t.notifications.c.type == "koers.endorse_requested",
                )
            )
        ).scalar()
    assert asked == 1

    # Bob proposes a change from B's page: A indexes it as a proposal, B shows it with its diff.
    res = await post_form(
        client,
        page + "/purpose/proposals",
        {"text": "Grow and share food together", "why": "share"},
        page=page + "/purpose",
    )
    assert res.status == 302
    await pump(a, b)
    bob_on_a = await actor_on(a, f"{b.url}/users/bob")
    async with a.db.read() as conn:
        (p,) = await proposals.proposals(
            conn, await viewer_for_actor(conn, alice.actor_id), garden.id
        )
    assert (
        p.author_id == bob_on_a
        and p.text_source == "Grow and share food together"
        and p.state == "open"
    )
    html = await (await client.get(page + "/purpose")).text()
    assert '<p class="diff">Grow<ins aria-label="added"> and share</ins> food together</p>' in html

    # A's manager opens a consent round; B shows it (the Group's Update) and bob agrees from B's page.
    decision_id = await decisions.open_decision(a.ctx, alice.actor_id, garden.id, "consent", [p.id])
    await pump(a, b)
    html = await (await client.get(page + "/purpose")).text()
    assert "A consent round since" in html and "Where the purpose stands: Decision" in html
    async with b.db.read() as conn:  # B asks its member to take part, as A asks its own
        kinds = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == bob.actor_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "koers.decision_opened" in kinds
    action = re.search(rf'action="({re.escape(page)}/purpose/decisions/\d+/consent)"', html)
    assert action is not None
    res = await post_form(
        client, action[1], {"position": "block", "reason": ""}, page=page + "/purpose"
    )
    assert res.status == 422 and "a block needs a reason" in await res.text()
    res = await post_form(
        client, action[1], {"position": "agree", "reason": ""}, page=page + "/purpose"
    )
    assert res.status == 302
    await pump(a, b)
    async with a.db.read() as conn:
        answers = await decisions.consents(conn, decision_id)
    assert [(h, pos) for h, pos, _ in answers] == [(f"bob@{b.settings.domain}", "agree")]

    # A closes: version 2 in force; B shows it and asks bob to endorse it.
    closed = await decisions.close_decision(a.ctx, alice.actor_id, decision_id)
    assert closed.result == "adopted" and closed.version == 2
    await pump(a, b)
    html = await (await client.get(page + "/purpose")).text()
    assert "In force: version 2" in html and "Grow and share food together" in html
    assert (
        "I endorse version 2 of the purpose" in html
        and "Where the purpose stands: In force" in html
    )
    assert "adopted" in html
    async with b.db.read() as conn:
        asked = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.extra)
                    .where(
                        t.notifications.c.actor_id == bob.actor_id,
                        t.notifications.c.type == "koers.endorse_requested",
                    )
                    .order_by(t.notifications.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert [n["version"] for n in asked] == [
        1,
        2,
    ]  # once for the version in force at the join, once for version 2
    assert "please read and endorse it" in await (await client.get("/notifications")).text()

    # Endorse, then withdraw, from B's page: A's list follows each step.
    assert bob_on_a not in await _endorsers(a, garden.id, alice.actor_id)
    res = await post_form(client, page + "/purpose/endorse", {}, page=page + "/purpose")
    assert res.status == 302
    await pump(a, b)
    assert bob_on_a in await _endorsers(a, garden.id, alice.actor_id)
    assert "Withdraw my endorsement" in await (await client.get(page + "/purpose")).text()
    res = await post_form(client, page + "/purpose/withdraw", {}, page=page + "/purpose")
    assert res.status == 302
    await pump(a, b)
    assert bob_on_a not in await _endorsers(a, garden.id, alice.actor_id)
    async with a.db.read() as conn:
        assert (await purpose.current(conn, garden.id)).version == 2
    assert (
        "I endorse version 2 of the purpose" in await (await client.get(page + "/purpose")).text()
    )


async def test_proposals_and_a_poll_of_a_reach_bs_page_and_bob_votes_there(make_instance) -> None:  # type: ignore[no-untyped-def]
    """A's member's proposal reaches B's page (indexed there too), A's poll decision shows on B with a vote
    form whose vote A counts, and the proposals' states on B follow A's (being decided, adopted / not)."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    amir = await a.create_member("amir")
    await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await communities.join(a.ctx, amir.actor_id, garden.id)
    client = await b.login("bob")
    page = f"/c/garden@{a.settings.domain}"
    await client.get(f"/authorize_interaction?uri={a.url}/communities/garden")
    await post_form(client, page + "/join", {}, page=page)
    await pump(a, b)
    # The phase moves after the join: each move is an Update of the Group, and B follows.
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(a.ctx, alice.actor_id, garden.id, phase)
    await pump(a, b)
    assert (
        "Where the purpose stands: Drafting" in await (await client.get(page + "/purpose")).text()
    )

    amir_post = await proposals.create_proposal(
        a.ctx, amir.actor_id, garden.id, "Grow food for the street", "street"
    )
    await pump(a, b)
    html = await (await client.get(page + "/purpose")).text()
    assert "Proposal by amir" in html and '<ins aria-label="added">for the street</ins>' in html
    async with a.db.read() as conn:
        (p,) = await proposals.proposals(
            conn, await viewer_for_actor(conn, alice.actor_id), garden.id
        )
        assert p.post_id == amir_post
    decision_id = await decisions.open_decision(a.ctx, alice.actor_id, garden.id, "poll", [p.id])
    await pump(a, b)
    html = await (await client.get(page + "/purpose")).text()
    assert "A poll since" in html and "being decided" in html and "Which text do we adopt?" in html
    assert (
        "Adopt proposal" in html and "Keep the current purpose" in html
    )  # B's copy of the proposal
    action = re.search(rf'action="({re.escape(page)}/purpose/decisions/\d+/vote)"', html)
    assert action is not None
    res = await post_form(client, action[1], {"choice": "0"}, page=page + "/purpose")
    assert res.status == 302
    await pump(a, b)
    async with a.db.read() as conn:
        assert (await decisions.get_decision(conn, decision_id)).counts == {
            "Adopt": 1,
            "Keep current": 0,
        }
    closed = await decisions.close_decision(a.ctx, alice.actor_id, decision_id)
    assert closed.result == "adopted"
    await pump(a, b)
    html = await (await client.get(page + "/purpose")).text()
    assert "In force: version 2" in html and "Grow food for the street" in html
    assert "Proposal by amir</strong> (@amir@" in html and "· adopted ·" in html
    assert "No decision is open that this instance knows of." in html

    # "Refresh from A" is harmless when B is up to date (members only).
    res = await post_form(client, page + "/refresh", {}, page=page)
    assert res.status == 302
    assert f"Up to date with {a.settings.domain}" in await (await client.get(page)).text()


async def test_process_document_shows_proposals_to_members_only(make_instance) -> None:  # type: ignore[no-untyped-def]
    """The process document goes through the visibility module: B's member (signing) sees the community's
    proposals, B's instance actor (not a member) only the phase."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(a.ctx, alice.actor_id, garden.id, phase)
    await proposals.create_proposal(a.ctx, alice.actor_id, garden.id, "Grow food for all", "all")
    url = f"{a.url}/communities/garden/purpose/process"
    as_instance = await fetch_signed(b.app, url, refresh=True)
    assert (
        as_instance["koers:purposePhase"]["koers:phase"] == "drafting"
        and as_instance["koers:proposals"] == []
    )
    await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    as_bob = await fetch_signed(b.app, url, as_actor=bob.actor_id, refresh=True)
    assert [p["content"] for p in as_bob["koers:proposals"]] == ["Grow food for all"]
    assert as_bob["koers:proposals"][0]["koers:state"] == "open"
