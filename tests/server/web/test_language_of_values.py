"""Messages with values, dates, numbers and the script's words in the reader's language."""

from __future__ import annotations

from datetime import date, timedelta

from bs4 import BeautifulSoup

from server import clock
from server.i18n import use
from server.i18n.messages import Message, translate
from tests.conftest import post_form
from tests.server.web.test_forms import _garden

DUTCH = {"Accept-Language": "nl"}


def test_a_message_is_english_as_text_and_translated_with_its_values() -> None:
    found = Message("title: at most %(num)s characters", num=5000)
    assert found == "title: at most 5000 characters"  # what the API and the logs read
    with use("nl"):
        assert translate(found) == "titel: hoogstens 5.000 tekens"
        assert translate("no such post") == "dit bericht bestaat niet"
    assert translate(found) == "title: at most 5,000 characters"
    renewed = Message("Renewed until %(date)s.", date=date(2027, 3, 1))
    with use("nl"):
        assert renewed.translated() == "Verlengd tot 1 maart 2027."
    nested = Message("The status is now: %(status)s.", status=Message("In progress"))
    with use("nl"):
        assert nested.translated() == "De status is nu: Bezig."


def test_a_message_survives_the_session_cookie() -> None:
    kept = Message("Renewed until %(date)s.", date=date(2027, 3, 1)).as_data()
    back = Message.from_data(kept)
    assert back is not None and back.values == {"date": date(2027, 3, 1)}
    nested = Message("The status is now: %(status)s.", status=Message("Done")).as_data()
    assert Message.from_data(nested) == "The status is now: Done."
    assert (
        Message.from_data({"t": "%(missing)s", "v": {"other": 1}}) is None
    )  # a broken one is dropped
    assert Message.from_data("text") is None


async def test_a_flash_with_values_is_shown_in_the_next_pages_language(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    client.session.headers.update(DUTCH)
    resp = await post_form(
        client, "/settings/invites", {"max_uses": "2", "days": "3"}, page="/settings/invites"
    )
    assert resp.status == 302
    page = await (await client.get("/settings/invites")).text()
    flash = BeautifulSoup(page, "html.parser").find(class_="flash").get_text()
    assert flash.startswith("Nieuwe uitnodigingslink: http")


async def test_a_dutch_page_shows_dutch_month_names(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    starts = (clock.now() + timedelta(days=400)).replace(month=3, day=9, hour=18, minute=0)
    made = await post_form(
        client,
        "/c/garden/events/new",
        {
            "title": "Seed swap",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "tz": "UTC",
            "place_name": "The shed",
            "join_mode": "free",
            "audience": "public",
        },
        page="/c/garden/events/new",
    )
    assert made.status == 302, await made.text()
    dutch = await instance.new_client()
    dutch.session.headers.update(DUTCH)
    page = await (await dutch.get(made.headers["Location"])).text()
    assert f"9 maart {starts.year}, 18:00" in page
    english = await (await instance.new_client()).get(made.headers["Location"])
    assert f"9 March {starts.year}, 18:00" in await english.text()


async def test_the_script_gets_its_words_from_the_page_in_dutch(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    client.session.headers.update(DUTCH)
    soup = BeautifulSoup(await (await client.get("/home")).text(), "html.parser")
    counter = soup.select_one("p.counter[data-max]")
    assert counter is not None
    assert counter["data-left"] == "nog {left} van {max} tekens over"
    assert counter["data-over-one"] == "1 teken te veel"
    assert counter["data-over-many"] == "{n} tekens te veel"
    bar = soup.select_one("[data-live-bar]")
    assert bar is not None and bar["data-many"] == "{n} nieuwe berichten — tonen"
    script = await (await client.get("/static/koers.js")).text()
    for name in ("data-left", "data-over-one", "data-over-many", "data-one", "data-many"):
        assert name in script  # the script reads the words the page gives it


def test_a_digest_title_kept_as_data_is_shown_in_the_mails_language() -> None:
    from server.i18n.messages import shown

    kept = Message("%(title)s: %(status)s", title="Pond", status=Message("Done")).as_data()
    with use("nl"):
        assert shown(kept) == "Pond: Klaar"
        assert shown("Done") == "Done"  # a title someone typed is never translated
    assert shown(kept) == "Pond: Done"
