"""The navigation (``templates/base.html``): a column on wide screens; on phones the main items
in a bar and every other item in a "More" menu, a ``<details>`` that needs no JavaScript, so no
item is only reachable by scrolling sideways."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from tests.conftest import Instance


def _nav(html: str) -> Tag:
    nav = BeautifulSoup(html, "html.parser").find("nav", attrs={"aria-label": "Main"})
    assert isinstance(nav, Tag)
    return nav


def _labels(items: list[Tag]) -> list[str]:
    return [
        " ".join(li.get_text(" ", strip=True).split()) for li in items if li.get_text(strip=True)
    ]


def _split(nav: Tag) -> tuple[list[str], list[str], list[str]]:
    """(the bar's main items, the items hidden on phones, the items of the More menu)."""
    top = nav.find("ul")
    assert isinstance(top, Tag)
    items = [
        li for li in top.find_all("li", recursive=False) if "nav-more" not in li.get("class", [])
    ]
    main = [li for li in items if "nav-extra" not in li.get("class", [])]
    extra = [li for li in items if "nav-extra" in li.get("class", [])]
    more = top.find("li", class_="nav-more")
    assert isinstance(more, Tag)
    details = more.find("details")
    assert isinstance(details, Tag) and details.find("summary").get_text(strip=True) == "More"
    return _labels(main), _labels(extra), _labels(details.find_all("li"))


async def test_a_member_reaches_every_item_from_the_bar_or_the_more_menu(
    instance: Instance,
) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    main, extra, more = _split(_nav(await (await client.get("/home")).text()))
    assert main == ["Home", "Feed", "Communities", "Notifications : 0 unread"]
    assert extra == more  # the phone's menu holds exactly what the phone's bar leaves out
    assert more == ["Explore", "People", "Write a post", "@ana", "Settings", "Log out"]
    nav = _nav(await (await client.get("/home")).text())
    logout = nav.find("li", class_="nav-more").find("form", action="/logout")
    assert logout is not None and logout.find("input", attrs={"name": "_csrf"})["value"]


async def test_a_visitor_keeps_log_in_and_sign_up_in_the_bar(instance: Instance) -> None:
    visitor = await instance.new_client()
    main, extra, more = _split(_nav(await (await visitor.get("/feed")).text()))
    assert main[-2:] == ["Log in", "Sign up"] and "Feed" in main and "Communities" in main
    assert extra == more == ["Explore", "About"]


async def test_the_current_page_is_marked_in_the_more_menu_too(instance: Instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    nav = _nav(await (await client.get("/explore")).text())
    current = [a.get_text(strip=True) for a in nav.find_all("a", attrs={"aria-current": "page"})]
    assert current == ["Explore", "Explore"]  # the column's item and the menu's (one is hidden)
