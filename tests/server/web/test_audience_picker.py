"""The compose component's audience picker (``macros.html`` ``audience_picker``): a fieldset of
radios, each audience's name as its label and its one-line explanation tied to it with
``aria-describedby``; the member's default audience checked; the same field and values as the
select it replaced, so a post made through it has the audience chosen."""

from __future__ import annotations

import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag

from server.services import accounts
from server.storage import schema as t
from server.web.cards import AUDIENCES
from server.web.compose import AUDIENCE_CHOICES
from tests.conftest import Instance, post_form


def _picker(html: str) -> Tag:
    form = BeautifulSoup(html, "html.parser").find("form", attrs={"data-compose": True})
    assert isinstance(form, Tag)
    assert form.find("select", attrs={"name": "audience"}) is None  # no cut-off options
    picker = form.find("fieldset", class_="audience-picker")
    assert isinstance(picker, Tag)
    return picker


async def test_each_audience_is_a_radio_with_its_explanation(instance: Instance) -> None:
    ana = await instance.create_member("ana")
    await accounts.update_profile(instance.db, ana.user_id, default_audience="members")
    client = await instance.login("ana")
    soup = BeautifulSoup(await (await client.get("/compose")).text(), "html.parser")
    picker = _picker(str(soup))
    assert picker.find("legend").get_text(strip=True) == "Who can see this"
    radios = picker.find_all("input", attrs={"type": "radio"})
    assert [r["value"] for r in radios] == [v for v, _ in AUDIENCE_CHOICES]
    assert {r["name"] for r in radios} == {"audience"}
    assert [r["value"] for r in radios if r.has_attr("checked")] == ["members"]
    for r in radios:
        name, explanation = AUDIENCES[r["value"]]
        assert soup.find("label", attrs={"for": r["id"]}).get_text(strip=True) == name
        assert soup.find(id=r["aria-describedby"]).get_text(strip=True) == explanation


async def test_a_post_made_through_the_picker_has_the_audience_chosen(instance: Instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    picker = _picker(await (await client.get("/home")).text())  # the home page's cached form
    assert [r["value"] for r in picker.find_all("input") if r.has_attr("checked")] == ["public"]
    resp = await post_form(
        client,
        "/compose",
        {"status": "Only for us", "audience": "members", "format": "markdown"},
        page="/home",
    )
    assert resp.status == 302, await resp.text()
    async with instance.db.read() as conn:
        audience = (await conn.execute(sa.select(t.posts.c.audience))).scalar_one()
    assert audience == "members"


async def test_a_refused_form_keeps_the_audience_chosen(instance: Instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/compose",
        {"status": "", "audience": "followers", "format": "markdown"},
        page="/compose",
    )
    assert resp.status == 422
    picker = _picker(await resp.text())
    assert [r["value"] for r in picker.find_all("input") if r.has_attr("checked")] == ["followers"]
