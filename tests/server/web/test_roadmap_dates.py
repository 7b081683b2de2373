"""Roadmap target dates: optional on a new item, shown on its page, and the roadmap's timeline view
(by target month, the undated last) beside the board; both plain pages without JavaScript."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server.services import communities, roadmap
from server.storage import schema as t
from tests.conftest import post_form

NEW = "/c/garden/roadmap/new"


def _item(i: int, when: date | None) -> roadmap.Item:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return roadmap.Item(
        id=i, community_id=1, title=f"item {i}", description_html="", status="planned",
        owner_role_id=None, owner_role_name=None, audience=roadmap.Audience.PUBLIC,
        author_id=None, uri=None, created_at=now, updated_at=now, target_date=when,
    )  # fmt: skip


def test_the_timeline_groups_by_month_soonest_first_undated_last() -> None:
    found = roadmap.by_target(
        [_item(1, None), _item(2, date(2027, 5, 2)), _item(3, date(2027, 3, 9)), _item(4, date(2027, 5, 1))]
    )  # fmt: skip
    assert [(m, [i.id for i in items]) for m, items in found] == [
        ("2027-03", [3]),
        ("2027-05", [4, 2]),
        ("", [1]),
    ]
    assert roadmap.parse_target("") is None
    assert roadmap.parse_target("2027-03-31") == date(2027, 3, 31)


async def test_a_target_date_from_the_form_and_the_two_views(instance) -> None:  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food."
    )
    client = await instance.login("ana")
    bad = await post_form(
        client,
        NEW,
        {"title": "", "target_date": "soon", "status": "idea", "audience": "public"},
        page=NEW,
    )
    assert bad.status == 422
    soup = BeautifulSoup(await bad.text(), "html.parser")
    assert [a["href"] for a in soup.select(".error-summary a")] == ["#f-title", "#f-target_date"]
    assert soup.find(id="f-target_date")["type"] == "date"
    for title, when in (
        ("Compost bins", "2027-05-01"),
        ("Seed library", "2027-03-15"),
        ("Pond", ""),
    ):
        resp = await post_form(
            client,
            NEW,
            {"title": title, "target_date": when, "status": "planned", "audience": "public"},
            page=NEW,
        )
        assert resp.status == 302, await resp.text()
    async with instance.db.read() as conn:
        dates = dict(
            (
                await conn.execute(
                    sa.select(t.roadmap_items.c.title, t.roadmap_items.c.target_date)
                )
            ).all()
        )
    assert dates["Compost bins"] == date(2027, 5, 1) and dates["Pond"] is None
    item = await (await client.get(resp.headers["Location"].replace("", ""))).text()
    assert "target date" not in item  # the pond has none

    board = BeautifulSoup(
        await (await instance.client.get("/c/garden/roadmap")).text(), "html.parser"
    )
    assert board.select_one(".view-switch a[aria-current=page]").get_text().startswith("Board")
    assert "target 1 May 2027" in board.get_text()  # written out, in the page's language
    timeline = BeautifulSoup(
        await (await instance.client.get("/c/garden/roadmap?view=timeline")).text(), "html.parser"
    )
    months = [h.get_text().split(" (")[0] for h in timeline.select(".timeline h2")]
    assert months == ["March 2027", "May 2027", "No target date"]
    assert "Seed library" in timeline.select(".timeline section")[0].get_text()
