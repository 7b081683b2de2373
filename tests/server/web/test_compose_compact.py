"""The compact compose form above a feed (the home and community pages, ``compact`` in
``templates/_compose.html``): the audience and a short text box in sight, everything else folded
into one "More options" that needs no JavaScript; /compose keeps the whole form."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from server.services import communities
from tests.conftest import Instance


def _form(html: str) -> Tag:
    form = BeautifulSoup(html, "html.parser").find("form", attrs={"data-compose": True})
    assert isinstance(form, Tag)
    return form


def _outside_more(form: Tag) -> list[str]:
    more = form.find("details", class_="compose-more")
    inside = set(map(id, more.find_all(attrs={"name": True}))) if more else set()
    return list(
        dict.fromkeys(
            el["name"] for el in form.find_all(attrs={"name": True}) if id(el) not in inside
        )
    )


async def test_the_home_page_folds_the_extras_into_more_options(instance: Instance) -> None:
    ana = await instance.create_member("ana")
    await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food."
    )
    client = await instance.login("ana")
    form = _form(await (await client.get("/home")).text())
    assert "compact" in form["class"]
    more = form.find("details", class_="compose-more")
    assert isinstance(more, Tag) and not more.has_attr("open")
    assert more.find("summary").get_text(strip=True) == "More options"
    assert _outside_more(form) == ["_csrf", "token", "audience", "status"]
    folded = {el["name"] for el in more.find_all(attrs={"name": True})}
    assert {"community_id", "spoiler_text", "poll_0", "media_0", "format"} <= folded
    text = form.find("textarea", attrs={"name": "status"})
    assert text["placeholder"] == "What do you want to share?"  # :placeholder-shown keeps it short


async def test_compose_page_and_a_reply_keep_the_whole_form(instance: Instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    form = _form(await (await client.get("/compose")).text())
    assert "compact" not in form["class"] and form.find("details", class_="compose-more") is None
    assert "format" in _outside_more(form) and "spoiler_text" in _outside_more(form)
