"""Purpose process pages: phase, proposals with diff, decisions, consent and endorsement forms."""

import re

import sqlalchemy as sa

from server.services import communities
from server.storage import schema as t
from tests.conftest import post_form

PAGE = "/c/garden/purpose"


async def _garden(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    c = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="We grow food together.",
    )
    await communities.join(instance.ctx, bo.actor_id, c.id)
    return ana, bo, c


async def _count(instance, table):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_walk_through_the_process_on_the_web(instance):
    await _garden(instance)
    ana = await instance.login("ana")
    bo = await instance.login("bo")
    # Members cannot move phases; the manager can, and the phase shows on both pages.
    resp = await post_form(bo, "/c/garden/purpose/phase", {"phase": "inventory"}, page=PAGE)
    assert resp.status == 403 and await _count(instance, t.purpose_phases) == 0
    resp = await post_form(ana, "/c/garden/purpose/phase", {"phase": "decision"}, page=PAGE)
    assert (
        resp.status == 422
        and "moves to" in await resp.text()
        and await _count(instance, t.purpose_phases) == 0
    )
    resp = await post_form(
        ana,
        "/c/garden/purpose/phase",
        {"phase": "inventory", "planned_end": "not a date"},
        page=PAGE,
    )
    assert resp.status == 422 and 'aria-invalid="true"' in await resp.text()
    for phase in ("inventory", "discussion"):
        assert (
            await post_form(ana, "/c/garden/purpose/phase", {"phase": phase}, page=PAGE)
        ).status == 302
    await post_form(
        ana,
        "/c/garden/purpose/phase",
        {"phase": "drafting", "planned_end": "2099-01-31"},
        page=PAGE,
    )
    community = await (await bo.get("/c/garden")).text()
    assert "Phase: <strong>Drafting</strong>" in community and "2099-01-31" in community

    # A proposal with an empty text is refused and writes nothing; a good one shows its diff.
    resp = await post_form(bo, "/c/garden/purpose/proposals", {"text": " ", "why": ""}, page=PAGE)
    assert resp.status == 422 and await _count(instance, t.purpose_proposals) == 0
    resp = await post_form(
        bo,
        "/c/garden/purpose/proposals",
        {"text": "We grow and share food together.", "why": "share"},
        page=PAGE,
    )
    assert resp.status == 302
    page = await (await bo.get(resp.headers["Location"])).text()
    assert '<ins aria-label="added">and share </ins>' in page and "share" in page
    proposal_id = int(re.search(r"/proposals/(\d+)", resp.headers["Location"]).group(1))
    anon = await instance.new_client()
    assert (
        await anon.get(f"/c/garden/purpose/proposals/{proposal_id}")
    ).status == 404  # a community post

    # A consent round: a block without reason is refused; the manager closes and the text is adopted.
    resp = await post_form(
        ana,
        "/c/garden/purpose/decisions",
        {"method": "consent", "proposal_ids": str(proposal_id)},
        page=PAGE,
    )
    assert resp.status == 302
    async with instance.db.read() as conn:
        decision_id = (await conn.execute(sa.select(t.purpose_decisions.c.id))).scalar_one()
    consent = f"/c/garden/purpose/decisions/{decision_id}/consent"
    assert "Decision open" in await (await bo.get(PAGE)).text()
    assert "Decision open" not in await (await anon.get(PAGE)).text()  # its counts are for members
    resp = await post_form(
        bo, consent, {"position": "block", "reason": "", "proposal_id": str(proposal_id)}, page=PAGE
    )
    assert resp.status == 422 and "a block needs a reason" in await resp.text()
    assert await _count(instance, t.purpose_consents) == 0
    assert (
        await post_form(
            bo, consent, {"position": "agree", "proposal_id": str(proposal_id)}, page=PAGE
        )
    ).status == 302
    assert (
        await post_form(bo, f"/c/garden/purpose/decisions/{decision_id}/close", {}, page=PAGE)
    ).status == 403
    assert (
        await post_form(ana, f"/c/garden/purpose/decisions/{decision_id}/close", {}, page=PAGE)
    ).status == 302
    page = await (await bo.get(PAGE)).text()
    assert "Current purpose (version 2)" in page and "We grow and share food together." in page
    assert "I endorse version 2 of the purpose" in page
    notes = await (await bo.get("/notifications")).text()
    assert "please read and endorse it" in notes and "opened a decision" in notes

    # Endorsing: the list of who has and has not yet shows to those who may see members.
    assert (await post_form(bo, "/c/garden/purpose/endorse", {}, page=PAGE)).status == 302
    page = await (await anon.get(PAGE)).text()
    endorsed, pending = page.split("Not yet endorsed")
    assert "@bo" in endorsed.split("Endorsed version 2")[1] and "@ana" in pending.split("</ul>")[0]


async def test_forms_need_csrf_and_login(instance):
    await _garden(instance)
    bo = await instance.login("bo")
    resp = await bo.post("/c/garden/purpose/endorse", data={}, allow_redirects=False)
    assert resp.status in (400, 403) and await _count(instance, t.purpose_endorsements) == 0
    anon = await instance.new_client()
    resp = await post_form(anon, "/c/garden/purpose/endorse", {}, page="/login")
    assert resp.status in (302, 401, 403) and await _count(instance, t.purpose_endorsements) == 0
