"""Community event pages: organising, RSVP with capacity and approval, iCalendar export."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import sqlalchemy as sa

from server import clock
from server.services import communities, follows
from server.services import community_events as events
from server.storage import schema as t
from tests.conftest import post_form

SOON = (clock.now() + timedelta(days=7)).replace(microsecond=0)


async def _garden(instance, creator, **kw):
    defaults = dict(handle="garden", name="Community garden", purpose_text="Grow food together.")
    defaults.update(kw)
    return await communities.create_community(instance.ctx, creator.actor_id, **defaults)


async def _join_community(instance, community_id, member):
    async with instance.db.read() as conn:
        group = (
            await conn.execute(
                sa.select(t.communities.c.actor_id).where(t.communities.c.id == community_id)
            )
        ).scalar()
    await follows.follow(instance.ctx, member.actor_id, group)


async def _count(instance, table):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


def _form(**kw):
    data = {
        "title": "Networking drinks",
        "description": "Meet the *neighbours*.",
        "starts_at": SOON.isoformat(),
        "ends_at": (SOON + timedelta(hours=2)).isoformat(),
        "place_name": "De Kroeg",
        "place_address": "Markt 1, Utrecht",
        "online_url": "",
        "capacity": "",
        "join_mode": "free",
        "audience": "public",
    }
    data.update(kw)
    return data


async def test_organise_and_show_an_event(instance):
    ana = await instance.create_member("ana")
    await _garden(instance, ana)
    client = await instance.login("ana")
    resp = await post_form(client, "/c/garden/events/new", _form(), page="/c/garden/events/new")
    assert resp.status == 302
    url = resp.headers["Location"]
    page = await (await instance.client.get(url)).text()
    assert "Networking drinks" in page and "De Kroeg" in page and "<em>neighbours</em>" in page
    assert "1 going" in page and ".ics" in page
    listing = await (await instance.client.get("/c/garden/events")).text()
    assert "Networking drinks" in listing and "Upcoming" in listing


async def test_bad_event_input_is_refused_and_writes_nothing(instance):
    ana = await instance.create_member("ana")
    await _garden(instance, ana)
    client = await instance.login("ana")
    for bad, field in (
        ({"title": ""}, "title"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"ends_at": (SOON - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"place_name": "", "place_address": ""}, "place_name"),
        ({"capacity": "0"}, "capacity"),
        ({"join_mode": "lottery"}, "join_mode"),
        ({"audience": "direct"}, "audience"),
        ({"online_url": "javascript:alert(1)", "place_name": ""}, "online_url"),
    ):
        resp = await post_form(
            client, "/c/garden/events/new", _form(**bad), page="/c/garden/events/new"
        )
        assert resp.status == 422, bad
        assert f'id="h-{field}" role="alert"' in await resp.text(), bad
    assert await _count(instance, t.events) == 0


async def test_outsider_cannot_organise(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("eve")
    await _garden(instance, ana)
    eve = await instance.login("eve")
    resp = await post_form(eve, "/c/garden/events/new", _form(), page="/c/garden/events/new")
    assert resp.status == 403
    assert await _count(instance, t.events) == 0


async def test_capacity_is_enforced_with_a_clear_message(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    await instance.create_member("cas")
    c = await _garden(instance, ana)
    event_id = await events.create_event(
        instance.ctx,
        ana.actor_id,
        c.id,
        events.EventInput(title="Workshop", starts_at=SOON, place_name="Shed", capacity=2),
    )
    bob = await instance.login("bob")
    url = f"/c/garden/events/{event_id}"
    assert (await post_form(bob, url + "/join", {}, page=url)).status == 302
    cas = await instance.login("cas")
    resp = await post_form(cas, url + "/join", {}, page=url)
    assert resp.status == 409
    assert "this event is full" in await resp.text()
    page = await (await instance.client.get(url)).text()
    assert "@bob" in page and "@cas" not in page and "2 going of 2" in page
    # leaving frees the place
    assert (await post_form(bob, url + "/leave", {}, page=url)).status == 302
    assert (await post_form(cas, url + "/join", {}, page=url)).status == 302
    assert "@cas" in await (await instance.client.get(url)).text()


async def test_approval_mode_managers_decide(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    await instance.create_member("eve")
    c = await _garden(instance, ana)
    event_id = await events.create_event(
        instance.ctx,
        ana.actor_id,
        c.id,
        events.EventInput(
            title="Closed workshop", starts_at=SOON, place_name="Shed", join_mode="approval"
        ),
    )
    url = f"/c/garden/events/{event_id}"
    bob = await instance.login("bob")
    assert (await post_form(bob, url + "/join", {}, page=url)).status == 302
    assert "waiting for the organisers" in await (await bob.get(url)).text()
    assert "@bob" not in await (await instance.client.get(url)).text()
    # someone who is neither organiser nor manager cannot decide
    eve = await instance.login("eve")
    async with instance.db.read() as conn:
        bob_id = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.username == "bob"))
        ).scalar()
    resp = await post_form(
        eve, url + "/decide", {"participant": str(bob_id), "decision": "accept"}, page=url
    )
    assert resp.status == 403
    ana_client = await instance.login("ana")
    assert "Requests" in await (await ana_client.get(url)).text()
    assert (
        "asked to join an event you organise"
        in await (await ana_client.get("/notifications")).text()
    )
    resp = await post_form(
        ana_client, url + "/decide", {"participant": str(bob_id), "decision": "accept"}, page=url
    )
    assert resp.status == 302
    assert "@bob" in await (await instance.client.get(url)).text()
    assert (
        "decided on your request to join an event" in await (await bob.get("/notifications")).text()
    )


async def test_ical_export_parses_and_hides_non_public_events(instance):
    ana = await instance.create_member("ana")
    c = await _garden(instance, ana)
    public_id = await events.create_event(
        instance.ctx,
        ana.actor_id,
        c.id,
        events.EventInput(
            title="Open day",
            starts_at=SOON,
            ends_at=SOON + timedelta(hours=3),
            place_name="Garden",
            place_address="Dijk 3",
        ),
    )
    hidden_id = await events.create_event(
        instance.ctx,
        ana.actor_id,
        c.id,
        events.EventInput(
            title="Members meeting",
            starts_at=SOON,
            online_url="https://meet.example/x",
            audience="community",
        ),
    )
    resp = await instance.client.get("/c/garden/events.ics")
    assert resp.status == 200 and resp.content_type == "text/calendar"
    cal = icalendar.Calendar.from_ical(await resp.read())
    summaries = [str(e["summary"]) for e in cal.walk("VEVENT")]
    assert summaries == ["Open day"]
    vevent = cal.walk("VEVENT")[0]
    assert vevent.decoded("dtstart") == SOON and "Dijk 3" in str(vevent["location"])
    assert (await instance.client.get(f"/c/garden/events/{hidden_id}.ics")).status == 404
    assert (await instance.client.get(f"/c/garden/events/{hidden_id}")).status == 404
    one = icalendar.Calendar.from_ical(
        await (await instance.client.get(f"/c/garden/events/{public_id}.ics")).read()
    )
    assert [str(e["summary"]) for e in one.walk("VEVENT")] == ["Open day"]
    # a member sees both
    client = await instance.login("ana")
    cal = icalendar.Calendar.from_ical(await (await client.get("/c/garden/events.ics")).read())
    assert sorted(str(e["summary"]) for e in cal.walk("VEVENT")) == ["Members meeting", "Open day"]
