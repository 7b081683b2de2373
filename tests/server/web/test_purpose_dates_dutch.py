"""The purpose process, roadmap changes and insights write their dates in the reader's language
(a Dutch month name, no ISO date in the text), keeping the ISO value in ``<time datetime>``."""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server.services import roadmap
from server.storage import schema as t
from tests.conftest import post_form
from tests.server.web.test_purpose_pages import PAGE, _garden

DUTCH = {"Accept-Language": "nl"}
DUTCH_DATE = re.compile(
    r"\b\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
    r"november|december) \d{4}"
)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
MARCH = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)


def _written_in_dutch(html: str, *, march: bool = True) -> BeautifulSoup:
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup
    text = main.get_text(" ")
    assert DUTCH_DATE.search(text), text[:2000]
    if march:
        assert "9 maart 2026" in text, text[:2000]
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    assert any(tag["datetime"].startswith("2026-03-09") for tag in main.find_all("time")) or (
        not march
    )
    return soup


async def test_purpose_pages_roadmap_changes_and_insights_write_dutch_dates(instance) -> None:  # type: ignore[no-untyped-def]
    ana_member, _bo, c = await _garden(instance)
    ana = await instance.login("ana")
    bo = await instance.login("bo")
    for phase, end in (("inventory", ""), ("discussion", ""), ("drafting", "2099-03-31")):
        resp = await post_form(
            ana, "/c/garden/purpose/phase", {"phase": phase, "planned_end": end}, page=PAGE
        )
        assert resp.status == 302
    resp = await post_form(
        bo,
        "/c/garden/purpose/proposals",
        {"text": "We grow and share food together.", "why": "share"},
        page=PAGE,
    )
    assert resp.status == 302
    proposal = resp.headers["Location"]
    proposal_id = re.search(r"/proposals/(\d+)", proposal).group(1)
    resp = await post_form(
        ana,
        "/c/garden/purpose/decisions",
        {"method": "consent", "proposal_ids": proposal_id},
        page=PAGE,
    )
    assert resp.status == 302
    await roadmap.create_item(instance.ctx, ana_member.actor_id, c.id, title="Seed library")
    async with instance.db.write() as conn:  # every date of the process in March
        await conn.execute(sa.update(t.purpose_phases).values(started_at=MARCH))
        await conn.execute(sa.update(t.purpose_decisions).values(opened_at=MARCH))
        await conn.execute(sa.update(t.purpose_versions).values(created_at=MARCH))
        await conn.execute(sa.update(t.posts).values(created_at=MARCH))
        await conn.execute(sa.update(t.roadmap_status_changes).values(created_at=MARCH))
    bo.session.headers.update(DUTCH)
    ana.session.headers.update(DUTCH)
    community = await (await bo.get("/c/garden")).text()
    _written_in_dutch(community)
    _written_in_dutch(await (await bo.get(PAGE)).text())
    _written_in_dutch(await (await bo.get("/c/garden/purpose/1")).text())
    _written_in_dutch(await (await bo.get(proposal)).text())
    insights = await ana.get("/c/garden/insights")
    assert insights.status == 200
    _written_in_dutch(await insights.text(), march=False)
