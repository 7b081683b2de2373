"""A purpose decision's poll on its post card in a feed follows the purpose pages' rule: its counts
show only once the viewer has voted or the vote has ended (they would sway it). The card's top is
kept per post (``server/web/card_cache.py``): its key carries whether the counts show, so a voter's
card is never served to someone who has not voted. An ordinary poll's counts show as before."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup, Tag

from server import clock
from server.storage import caches
from server.storage import schema as t
from tests.conftest import Instance, post_form
from tests.server.web.test_purpose_poll_inline import PAGE, _two_proposals

FEED = "/c/garden"


def _poll_card(html: str) -> Tag:
    polls = BeautifulSoup(html, "html.parser").select("[data-card] ul.poll")
    assert len(polls) == 1, html
    card = polls[0].find_parent(attrs={"data-card": True})
    assert isinstance(card, Tag)
    return card


def _items(card: Tag) -> list[str]:
    return [li.get_text(" ", strip=True) for li in card.select("ul.poll li")]


async def test_a_decision_card_shows_counts_only_to_who_voted(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caches, "SETTLE_SECONDS", 0)
    await _two_proposals(instance)
    ana, bo, cy = [await instance.login(n) for n in ("ana", "bo", "cy")]
    opened = await post_form(
        ana,
        "/c/garden/purpose/decisions",
        {"method": "poll", "proposal_ids": ["1", "2"]},
        page=PAGE,
    )
    assert opened.status == 302
    page = BeautifulSoup(await (await bo.get(PAGE)).text(), "html.parser")
    action = page.select_one("form.poll-vote")["action"]
    assert (
        await post_form(cy, action, {"choice": "1", "back": "purpose"}, page=PAGE)
    ).status == 302

    voted = _poll_card(await (await cy.get(FEED)).text())  # cached first, with its counts
    assert _items(voted)[1].endswith("— 1") and voted.select_one(".poll-hidden") is None
    for viewer in (bo, ana):  # not voted: a member, and the manager who opened it
        card = _poll_card(await (await viewer.get(FEED)).text())
        assert not any(re.search(r"— \d+$", item) for item in _items(card)), _items(card)
        assert "once you have voted" in card.select_one(".poll-hidden").get_text()

    assert (
        await post_form(bo, action, {"choice": "0", "back": "purpose"}, page=PAGE)
    ).status == 302
    card = _poll_card(await (await bo.get(FEED)).text())
    assert [item[-3:] for item in _items(card)] == ["— 1", "— 1", "— 0"]

    async with instance.db.write() as conn:  # the vote has ended: its counts show to all
        await conn.execute(t.polls.update().values(expires_at=clock.now() - timedelta(minutes=1)))
    card = _poll_card(await (await ana.get(FEED)).text())
    assert [item[-3:] for item in _items(card)] == ["— 1", "— 1", "— 0"]


async def test_an_ordinary_poll_card_shows_its_counts_as_before(instance: Instance) -> None:
    await instance.create_member("ana")
    ana = await instance.login("ana")
    made = await post_form(
        ana,
        "/compose",
        {
            "status": "Where do we meet?",
            "audience": "public",
            "format": "markdown",
            "poll_0": "The shed",
            "poll_1": "The café",
            "poll_expires_in": "3600",
        },
        page="/compose",
    )
    assert made.status == 302
    visitor = await instance.new_client()
    card = _poll_card(await (await visitor.get("/@ana")).text())
    assert _items(card) == ["The shed — 0", "The café — 0"]
    assert card.select_one(".poll-hidden") is None
