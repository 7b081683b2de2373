"""A decision run as a poll is voted on from the purpose page (and a proposal's page) with a plain
form that posts and comes back; the counts show once the member has voted, and on closing."""

from __future__ import annotations

import re

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server.services import communities
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.storage import schema as t
from tests.conftest import post_form

PAGE = "/c/garden/purpose"


async def _two_proposals(instance):  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    cy = await instance.create_member("cy")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="We grow food."
    )
    for m in (bo, cy):
        await communities.join(instance.ctx, m.actor_id, c.id)
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(instance.ctx, ana.actor_id, c.id, phase)
    for text in ("We grow and share food.", "We grow food for the street."):
        await proposals.create_proposal(instance.ctx, bo.actor_id, c.id, text, "")
    async with instance.db.read() as conn:
        return [
            r[0]
            for r in await conn.execute(
                sa.select(t.purpose_proposals.c.id).order_by(t.purpose_proposals.c.id)
            )
        ]


def _box(html: str) -> BeautifulSoup:
    box = BeautifulSoup(html, "html.parser").find(class_="decision-open")
    assert box is not None, html
    return box


async def test_a_poll_decision_is_voted_on_the_purpose_page(instance) -> None:  # type: ignore[no-untyped-def]
    first, second = await _two_proposals(instance)
    ana, bo, cy = [await instance.login(n) for n in ("ana", "bo", "cy")]
    resp = await post_form(
        ana,
        "/c/garden/purpose/decisions",
        {"method": "poll", "proposal_ids": [str(first), str(second)]},
        page=PAGE,
    )
    assert resp.status == 302

    box = _box(await (await bo.get(PAGE)).text())
    form = box.find("form", class_="poll-vote")
    assert form is not None and form["method"] == "post"
    options = [
        (i["value"], i.parent.get_text(" ", strip=True)) for i in form.select("input[type=radio]")
    ]
    assert options == [
        ("0", f"Proposal {first} by bo"),
        ("1", f"Proposal {second} by bo"),
        ("2", "Keep the current purpose"),
    ]
    assert box.find(class_="poll-results") is None  # no counts before voting: they would sway it
    action = form["action"]
    assert re.fullmatch(r"/c/garden/purpose/decisions/\d+/vote", action)

    # no choice: the purpose page again, the error beside the options and in the summary
    missing = await post_form(bo, action, {"back": "purpose"}, page=PAGE)
    assert missing.status == 422
    again = BeautifulSoup(await missing.text(), "html.parser")
    assert again.find("h1").get_text().startswith("Purpose of")
    assert "choose one of the options" in again.find(id="h-vote_choice").get_text()
    assert [a["href"] for a in again.select(".error-summary a")] == ["#f-vote_choice"]

    voted = await post_form(bo, action, {"choice": "1", "back": "purpose"}, page=PAGE)
    assert voted.status == 302 and voted.headers["Location"] == PAGE + "#decision-h"
    box = _box(await (await bo.get(PAGE)).text())
    assert box.find("form", class_="poll-vote") is None
    assert f"You voted: Proposal {second} by bo" in box.get_text(" ", strip=True)
    results = [li.get_text(" ", strip=True) for li in box.select(".poll-results li")]
    assert results == [
        f"Proposal {first} by bo: 0 votes (0%)",
        f"Proposal {second} by bo: 1 vote (100%)",
        "Keep the current purpose: 0 votes (0%)",
    ]
    twice = await post_form(bo, action, {"choice": "0", "back": "purpose"}, page=PAGE)
    assert twice.status == 409 and "voted in this poll already" in await twice.text()

    # from a proposal's page, back to it; the vote is the poll's own, as from a Mastodon app
    page = f"/c/garden/purpose/proposals/{second}"
    on_proposal = BeautifulSoup(await (await cy.get(page)).text(), "html.parser")
    assert on_proposal.select_one("form.poll-vote input[name=back]")["value"] == str(second)
    resp = await post_form(cy, action, {"choice": "1", "back": str(second)}, page=page)
    assert resp.status == 302 and resp.headers["Location"] == page + "#decision-h"
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.poll_votes))
        ).scalar() == 2

    # a visitor sees no form and no counts; closing adopts the winner and shows it
    anon = await instance.new_client()
    assert "poll-vote" not in await (await anon.get(PAGE)).text()
    assert (await post_form(ana, re.sub(r"/vote$", "/close", action), {}, page=PAGE)).status == 302
    text = await (await ana.get(PAGE)).text()
    assert "Current purpose (version 2)" in text and "We grow food for the street." in text
    assert "poll-vote" not in text
    late = await post_form(cy, action, {"choice": "0", "back": "purpose"}, page=PAGE)
    assert late.status == 422 and "this decision is closed" in await late.text()


async def test_the_vote_form_needs_login_and_a_poll_of_this_community(instance) -> None:  # type: ignore[no-untyped-def]
    first, _ = await _two_proposals(instance)
    ana = await instance.login("ana")
    await post_form(
        ana,
        "/c/garden/purpose/decisions",
        {"method": "consent", "proposal_ids": str(first)},
        page=PAGE,
    )
    async with instance.db.read() as conn:
        decision_id = (await conn.execute(sa.select(t.purpose_decisions.c.id))).scalar_one()
    action = f"/c/garden/purpose/decisions/{decision_id}/vote"
    # a consent round has no poll to vote in
    assert (await post_form(ana, action, {"choice": "0"}, page=PAGE)).status == 404
    huge = "/c/garden/purpose/decisions/99999999999999999999999/vote"
    assert (await post_form(ana, huge, {"choice": "0"}, page=PAGE)).status == 404
    anon = await instance.new_client()
    resp = await post_form(anon, action, {"choice": "0"}, page="/login")
    assert resp.status in (302, 401, 403)
    no_csrf = await ana.post(action, data={"choice": "0"}, allow_redirects=False)
    assert no_csrf.status in (400, 403)


async def test_no_proposals_yet_says_what_to_do(instance) -> None:  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="We grow food."
    )
    client = await instance.login("ana")
    assert "No proposals." in await (await client.get(PAGE)).text()  # not yet drafting
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(instance.ctx, ana.actor_id, c.id, phase)
    empty = BeautifulSoup(await (await client.get(PAGE)).text(), "html.parser").find(
        "p", class_="empty"
    )
    assert empty is not None and "propose a new text below" in empty.get_text()
