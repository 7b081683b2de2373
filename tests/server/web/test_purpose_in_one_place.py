"""The purpose in one place: the open consent round answered from the purpose page, proposals with
their discussion on their own page, a readable diff, and a manager's direct change marked."""

from __future__ import annotations

import re

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server.services import communities
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.storage import schema as t
from server.web.purpose_diff import readable_diff
from tests.conftest import post_form

PAGE = "/c/garden/purpose"


def test_the_readable_diff_works_by_sentence_then_by_word() -> None:
    d = readable_diff(
        "We grow food together. We meet on Sundays. Bring seeds.",
        "We grow and share food together. We meet on Sundays. Everyone is welcome.",
    )
    html = str(d.html)
    assert d.summary == "2 sentences changed"
    assert "We meet on Sundays." in html and "<del>" in html and "<ins>" in html
    soup = BeautifulSoup(html, "html.parser")
    said = [s.get_text() for s in soup.select(".visually-hidden")]
    assert "added: " in said and "removed: " in said  # words for screen readers, not only colour
    added = readable_diff("One.", "One. Two.")
    assert added.summary == "1 sentence added" and "added sentence:" in str(added.html)
    removed = readable_diff("One. Two.", "One.")
    assert removed.summary == "1 sentence removed"
    assert readable_diff("Same.", "Same.").summary == "No change"
    assert "&lt;b&gt;" in str(readable_diff("a <b>.", "a <i>.").html)


async def _garden(instance):  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="We grow food."
    )
    await communities.join(instance.ctx, bo.actor_id, c.id)
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(instance.ctx, ana.actor_id, c.id, phase)
    post_id = await proposals.create_proposal(
        instance.ctx, bo.actor_id, c.id, "We grow and share food. Everyone is welcome.", "share"
    )
    async with instance.db.read() as conn:
        proposal_id = (
            await conn.execute(
                sa.select(t.purpose_proposals.c.id).where(t.purpose_proposals.c.post_id == post_id)
            )
        ).scalar_one()
    return c, proposal_id


async def test_a_consent_round_is_answered_on_the_purpose_page(instance) -> None:  # type: ignore[no-untyped-def]
    _, proposal_id = await _garden(instance)
    ana, bo = await instance.login("ana"), await instance.login("bo")
    resp = await post_form(
        ana,
        "/c/garden/purpose/decisions",
        {"method": "consent", "proposal_ids": str(proposal_id)},
        page=PAGE,
    )
    assert resp.status == 302
    soup = BeautifulSoup(await (await bo.get(PAGE)).text(), "html.parser")
    box = soup.find(class_="decision-open")
    assert box is not None and "Decision open" in box.get_text()
    assert "Everyone is welcome." in box.get_text()  # the proposal's change, inline
    buttons = {b["value"]: b.get_text() for b in box.select(".consent-buttons button")}
    assert buttons == {
        "agree": "Agree",
        "disagree": "I have concerns, go ahead",
        "abstain": "Abstain",
        "block": "Block",
    }
    action = box.find("form", class_="consent")["action"]

    blocked = await post_form(
        bo, action, {"position": "block", "reason": "", "back": "purpose"}, page=PAGE
    )
    assert blocked.status == 422
    again = BeautifulSoup(await blocked.text(), "html.parser")
    assert again.find("h1").get_text().startswith("Purpose of")  # the purpose page, not elsewhere
    assert "a block needs a reason" in again.find(id="h-consent_reason").get_text()
    assert [a["href"] for a in again.select(".error-summary a")] == ["#f-consent_reason"]

    agreed = await post_form(bo, action, {"position": "agree", "back": "purpose"}, page=PAGE)
    assert agreed.status == 302 and agreed.headers["Location"].startswith(PAGE)
    page = await (await bo.get(PAGE)).text()
    assert "You answered: <strong>Agree</strong>" in page
    assert (
        await post_form(ana, re.sub(r"/consent$", "/close", action), {}, page=PAGE)
    ).status == 302
    page = await (await ana.get(PAGE)).text()
    assert "Current purpose (version 2)" in page and "Adopted by a decision" in page


async def test_a_proposal_page_holds_its_discussion(instance) -> None:  # type: ignore[no-untyped-def]
    _, proposal_id = await _garden(instance)
    ana = await instance.login("ana")
    url = f"/c/garden/purpose/proposals/{proposal_id}"
    soup = BeautifulSoup(await (await ana.get(url)).text(), "html.parser")
    assert "No replies yet" in soup.get_text()
    form = soup.find("form", attrs={"data-compose": True})
    assert form is not None and form.find("input", attrs={"name": "back"})["value"] == url
    reply_to = form.find("input", attrs={"name": "in_reply_to"})["value"]
    resp = await post_form(
        ana,
        "/compose",
        {
            "status": "I like sharing.",
            "in_reply_to": reply_to,
            "audience": "community",
            "back": url,
        },
        page=url,
    )
    assert resp.status == 302 and resp.headers["Location"].startswith(url + "#p")
    page = await (await ana.get(url)).text()
    assert "I like sharing." in page and "No replies yet" not in page
    assert "1 sentence changed, 1 sentence added" in page


async def test_a_managers_direct_change_needs_a_reason_and_is_marked(instance) -> None:  # type: ignore[no-untyped-def]
    await _garden(instance)
    ana = await instance.login("ana")
    refused = await post_form(ana, PAGE, {"purpose": "We grow food.", "reason": ""}, page=PAGE)
    assert refused.status == 422 and "say why the purpose changes" in await refused.text()
    resp = await post_form(
        ana, PAGE, {"purpose": "We grow vegetables.", "reason": "clearer"}, page=PAGE
    )
    assert resp.status == 302
    soup = BeautifulSoup(await (await ana.get(PAGE)).text(), "html.parser")
    newest = soup.find(id="v2")
    assert "Changed directly by a manager" in newest.get_text() and "clearer" in newest.get_text()
    assert "Changed directly" not in soup.find(id="v1").get_text()
