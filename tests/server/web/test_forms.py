"""Forms show every error at once, in plain language, beside its field and in a summary at the
top, and keep what was typed; event times are ``datetime-local`` inputs read in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server import clock
from server.errors import FieldErrors, ValidationError
from server.http.pages import as_sentence
from server.services import communities
from server.services import community_events as events
from server.storage import schema as t
from server.web import forms
from tests.conftest import post_form

NEXT_YEAR = clock.now().year + 1


def test_sentences_drop_the_code_name_of_the_field_in_any_language() -> None:
    assert as_sentence("capacity: a number from 1") == "a number from 1."
    assert as_sentence("place_name: give a place") == "give a place."
    assert as_sentence("aantal plaatsen: een getal vanaf 1") == "een getal vanaf 1."
    assert as_sentence("When?") == "When?"
    assert as_sentence("a block needs a reason") == "a block needs a reason."
    # a colon inside a sentence is no field name
    assert as_sentence("only these are allowed here: a, b") == "only these are allowed here: a, b."


def test_field_errors_collect_all_and_raise_the_first() -> None:
    found = FieldErrors()
    with found.check("a"):
        raise ValidationError("a: first", field="a")
    with found.check():
        raise ValidationError("b: second", field="b", errors={"b": "b: second", "c": "c: third"})
    found.add("a", "a: ignored, a has one already")
    assert found.errors == {"a": "a: first", "b": "b: second", "c": "c: third"}
    try:
        found.raise_any()
    except ValidationError as exc:
        assert (exc.field, exc.message) == ("a", "a: first") and exc.errors == found.errors
    else:
        raise AssertionError("nothing raised")


def test_the_event_service_names_every_problem_but_raises_the_first_as_before() -> None:
    bad = events.EventInput(title="", starts_at=None, capacity=0, join_mode="lottery")
    try:
        events.validate(bad)
    except ValidationError as exc:
        assert exc.field == "title"  # an API client still reads the first message
        assert set(exc.errors) == {"title", "starts_at", "place_name", "capacity", "join_mode"}
    else:
        raise AssertionError("nothing raised")


def test_local_times_are_read_in_the_forms_zone() -> None:
    assert forms.local_time("2026-12-01T18:00", "Europe/Amsterdam", "starts_at") == (
        "2026-12-01T18:00:00+01:00"
    )
    assert forms.local_time("2026-12-01T18:00+00:00", "Europe/Amsterdam", "x").endswith("+00:00")
    assert forms.local_time("", "UTC", "x") == ""
    for value, zone in (("soon", "UTC"), ("2026-12-01T18:00", "Mars/Olympus")):
        try:
            forms.local_time(value, zone, "starts_at")
        except ValidationError as exc:
            assert exc.field in ("starts_at", "tz")
        else:
            raise AssertionError(value)
    moment = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert forms.local_input(moment, "Europe/Amsterdam") == "2026-07-01T18:00"


async def _garden(instance):  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food."
    )
    return await instance.login("ana")


async def test_the_event_form_shows_every_error_at_once_and_keeps_the_values(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    page = await (await client.get("/c/garden/events/new")).text()
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find("input", id="f-starts_at")["type"] == "datetime-local"
    assert soup.find("input", id="f-tz")["value"] == "UTC"
    resp = await post_form(
        client,
        "/c/garden/events/new",
        {
            "title": "",
            "description": "Bring gloves",
            "starts_at": "next tuesday",
            "tz": "UTC",
            "capacity": "lots",
            "join_mode": "free",
            "audience": "public",
        },
        page="/c/garden/events/new",
    )
    assert resp.status == 422
    soup = BeautifulSoup(await resp.text(), "html.parser")
    summary = soup.find(class_="error-summary")
    assert summary is not None and "4 things to put right" in summary.get_text()
    links = [a["href"] for a in summary.find_all("a")]
    assert links == ["#f-starts_at", "#f-capacity", "#f-title", "#f-place_name"]
    assert "Capacity: a whole number of places" in summary.get_text()
    for name in ("title", "starts_at", "capacity", "place_name"):
        field = soup.find(id=f"f-{name}")
        assert field["aria-invalid"] == "true" and field["aria-describedby"] == f"h-{name}"
        assert soup.find(id=f"h-{name}").get_text().strip()
    assert "capacity:" not in soup.get_text() and "not a valid choice" not in soup.get_text()
    assert soup.find(id="f-description").get_text() == "Bring gloves"  # kept
    assert soup.find(id="f-capacity")["value"] == "lots"


async def test_an_event_time_is_read_in_the_chosen_zone_and_shown_back(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    resp = await post_form(
        client,
        "/c/garden/events/new",
        {
            "title": "Planting",
            "starts_at": f"{NEXT_YEAR}-06-01T10:00",
            "ends_at": f"{NEXT_YEAR}-06-01T12:30",
            "tz": "Europe/Amsterdam",
            "place_name": "The plot",
            "capacity": "12",
            "join_mode": "free",
            "audience": "public",
        },
        page="/c/garden/events/new",
    )
    assert resp.status == 302, await resp.text()
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.events))).one()
    assert clock.aware(row.starts_at) == datetime(NEXT_YEAR, 6, 1, 8, 0, tzinfo=UTC)
    assert clock.aware(row.ends_at) - clock.aware(row.starts_at) == timedelta(hours=2, minutes=30)
    edit = await (await client.get(resp.headers["Location"] + "/edit")).text()
    soup = BeautifulSoup(edit, "html.parser")
    assert soup.find(id="f-starts_at")["value"] == f"{NEXT_YEAR}-06-01T08:00"
    assert soup.find(id="f-tz")["value"] == "UTC"


async def test_errors_are_translated_before_they_are_worded(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    resp = await post_form(
        client,
        "/c/garden/events/new",
        {"title": "", "starts_at": f"{NEXT_YEAR}-06-01T10:00", "tz": "UTC", "place_name": "Hof"},
        page="/c/garden/events/new",
        headers={"Accept-Language": "nl"},
    )
    assert resp.status == 422
    soup = BeautifulSoup(await resp.text(), "html.parser")
    assert soup.find(id="h-title").get_text() == "geef het evenement een titel."
    assert "Titel: geef het evenement een titel." in soup.find(class_="error-summary").get_text()
