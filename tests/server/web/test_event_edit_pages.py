"""Changing an event on the web: the organiser and managers get the form (filled in, linked from the
event page), bad input is refused with the field's message and writes nothing, others are refused."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.i18n import formatting
from server.services import communities, follows
from server.storage import schema as t
from tests.conftest import post_form

SOON = (clock.now() + timedelta(days=7)).replace(microsecond=0, second=0)


def _form(**kw: str) -> dict[str, str]:
    data = {
        "title": "Networking drinks",
        "description": "Meet the *neighbours*.",
        "starts_at": SOON.isoformat(),
        "ends_at": "",
        "place_name": "De Kroeg",
        "place_address": "Markt 1",
        "online_url": "",
        "capacity": "20",
        "join_mode": "free",
        "audience": "public",
    }
    data.update(kw)
    return data


async def _setup(instance):  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")  # manages the community
    bo = await instance.create_member("bo")  # organises the event
    cy = await instance.create_member("cy")  # a member who did not organise it
    garden = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together.",
    )
    async with instance.db.read() as conn:
        group = (
            await conn.execute(
                sa.select(t.communities.c.actor_id).where(t.communities.c.id == garden.id)
            )
        ).scalar()
    for member in (bo, cy):
        await follows.follow(instance.ctx, member.actor_id, group)
    bo_client = await instance.login("bo")
    resp = await post_form(bo_client, "/c/garden/events/new", _form(), page="/c/garden/events/new")
    assert resp.status == 302
    return bo_client, resp.headers["Location"]


async def _event(instance):  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(t.events))).one()


async def test_organiser_changes_the_event_from_its_page(instance) -> None:  # type: ignore[no-untyped-def]
    client, url = await _setup(instance)
    page = await (await client.get(url)).text()
    assert f'href="{url}/edit"' in page
    form_page = await (await client.get(url + "/edit")).text()
    assert (
        "<h1>Change the event" in form_page
        and 'value="Networking drinks"' in form_page
        and "Meet the *neighbours*." in form_page
    )
    later = SOON + timedelta(days=2)
    resp = await post_form(
        client,
        url + "/edit",
        _form(title="Drinks, moved", starts_at=later.isoformat(), capacity=""),
        page=url + "/edit",
    )
    assert resp.status == 302 and resp.headers["Location"] == url
    shown = await (await client.get(url)).text()
    assert (
        "Drinks, moved" in shown and formatting.full_date(later) in shown
    )  # "11 December 2026, 16:52 UTC"
    row = await _event(instance)
    assert row.capacity is None and clock.aware(row.starts_at) == later


async def test_manager_may_edit_a_member_who_did_not_organise_may_not(instance) -> None:  # type: ignore[no-untyped-def]
    _, url = await _setup(instance)
    manager = await instance.login("ana")
    assert (await manager.get(url + "/edit")).status == 200
    resp = await post_form(manager, url + "/edit", _form(title="Managed"), page=url + "/edit")
    assert resp.status == 302
    other = await instance.login("cy")
    assert f'href="{url}/edit"' not in await (await other.get(url)).text()
    assert (await other.get(url + "/edit")).status == 403
    assert (
        await (await instance.new_client()).get(url + "/edit", allow_redirects=False)
    ).status in (302, 401)
    assert (await _event(instance)).title == "Managed"


async def test_bad_change_is_refused_with_the_fields_message(instance) -> None:  # type: ignore[no-untyped-def]
    client, url = await _setup(instance)
    for change, message in (
        ({"title": "  "}, "give the event a title"),
        ({"starts_at": "soonish"}, "a date and time"),
        ({"ends_at": (SOON - timedelta(hours=1)).isoformat()}, "end must be after the start"),
        ({"place_name": "", "place_address": ""}, "give a place or an online link"),
    ):
        resp = await post_form(client, url + "/edit", _form(**change), page=url + "/edit")
        assert resp.status == 422, change
        html = await resp.text()
        assert message in html and ('role="alert"' in html or "aria-describedby" in html)
    row = await _event(instance)
    assert row.title == "Networking drinks" and clock.aware(row.starts_at) == SOON
    assert (await client.get("/c/garden/events/999999/edit")).status == 404
