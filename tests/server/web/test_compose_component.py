"""The compose component: audience first, a counted text, a folded content warning, a poll and
pictures; the same form on /compose, the home page, a community page and a post's reply section;
every error at once with the values kept."""

from __future__ import annotations

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server.services import communities, posts
from server.storage import schema as t
from server.visibility import Audience
from tests.conftest import post_form


def _fields(html: str) -> list[str]:
    form = BeautifulSoup(html, "html.parser").find("form", attrs={"data-compose": True})
    assert form is not None, "no compose component on the page"
    names = [el["name"] for el in form.find_all(["input", "select", "textarea"]) if el.get("name")]
    return list(dict.fromkeys(names))  # a group of radios is one field


async def test_compose_puts_the_audience_first_and_folds_the_extras(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("ana")
    client = await instance.login("ana")
    html = await (await client.get("/compose")).text()
    names = [n for n in _fields(html) if n not in ("_csrf", "token")]
    assert names[0] == "audience" and names[1] == "status"
    soup = BeautifulSoup(html, "html.parser")
    text = soup.find(id="f-status")
    assert text["maxlength"] == str(posts.MAX_CHARS) and "c-count" in text["aria-describedby"]
    assert "Up to 5000 characters" in soup.find(id="c-count").get_text()
    parts = [d.find("summary").get_text() for d in soup.find_all("details", class_="compose-part")]
    assert parts[:3] == ["Content warning", "Poll", "Pictures"]
    assert not any(d.has_attr("open") for d in soup.find_all("details", class_="compose-part"))
    assert "poll_0" in names and "poll_expires_in" in names and "media_0" in names


async def test_a_poll_is_published_from_the_form(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("ana")
    client = await instance.login("ana")
    resp = await post_form(
        client,
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
    assert resp.status == 302, await resp.text()
    async with instance.db.read() as conn:
        poll = (await conn.execute(sa.select(t.polls))).one()
    assert list(poll.options) == ["The shed", "The café"] and not poll.multiple
    page = await (await client.get(resp.headers["Location"])).text()
    assert "The shed" in page


async def test_every_compose_error_at_once_with_the_values_kept(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("ana")
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/compose",
        {
            "status": "Pick one",
            "spoiler_text": "vote inside",
            "audience": "everyone",
            "format": "markdown",
            "poll_0": "only one choice",
            "community_id": "x",
        },
        page="/compose",
    )
    assert resp.status == 422
    soup = BeautifulSoup(await resp.text(), "html.parser")
    summary = soup.find(class_="error-summary")
    assert summary is not None
    assert [a["href"] for a in summary.find_all("a")] == [
        "#f-audience",
        "#f-community_id",
        "#f-poll",
    ]
    assert "give at least two choices" in soup.find(id="h-poll").get_text()
    assert soup.find(id="f-status").get_text() == "Pick one"
    assert soup.find(id="f-spoiler_text")["value"] == "vote inside"
    assert soup.find(id="f-poll_0")["value"] == "only one choice"
    opened = [d.find("summary").get_text() for d in soup.find_all("details") if d.has_attr("open")]
    assert "Content warning" in opened and "Poll" in opened


async def test_the_same_component_on_home_community_and_reply_pages(instance) -> None:  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    garden = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food."
    )
    client = await instance.login("ana")
    assert "status" in _fields(await (await client.get("/home")).text())

    community_form = _fields(await (await client.get("/c/garden")).text())
    assert "status" in community_form and "community_id" in community_form
    resp = await post_form(
        client,
        "/compose",
        {"status": "Seedlings!", "audience": "community", "community_id": str(garden.id)},
        page="/c/garden",
    )
    assert resp.status == 302
    assert "Seedlings!" in await (await client.get("/c/garden")).text()

    post_id = await posts.create_post(
        instance.ctx, bob.actor_id, posts.Draft(source="Who has a spade?", audience=Audience.PUBLIC)
    )
    page = await (await client.get(f"/@bob/{post_id}")).text()
    reply = _fields(page)
    assert "in_reply_to" in reply and "status" in reply and "poll_0" not in reply
    assert "Your reply reaches the same people as the post it answers: Public." in page
    compose = await (await client.get(f"/compose?in_reply_to={post_id}")).text()
    assert "Who has a spade?" in compose  # the post answered, above the form
