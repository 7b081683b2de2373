"""Koers API: community events (organise, RSVP, capacity, approval) and roadmap follows/supports."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.storage import schema as t
from tests.api.koers.conftest import World

SOON = (clock.now() + timedelta(days=3)).replace(microsecond=0)


def _event(**kw):
    body = {
        "title": "Workshop",
        "starts_at": SOON.isoformat(),
        "place": {"name": "Library", "address": "Plein 1"},
    }
    body.update(kw)
    return body


async def _count(world: World, table) -> int:
    async with world.instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def test_organise_rsvp_and_capacity(world: World) -> None:
    cid = world.community_id
    status, event = await world.member.post(f"/communities/{cid}/events", _event(capacity=2))
    assert status == 201, event
    assert (
        event["place"] == {"name": "Library", "address": "Plein 1"}
        and event["participants_count"] == 1
    )
    assert event["state"] == "joined" and event["remaining"] == 1
    path = f"/communities/{cid}/events/{event['id']}"
    status, joined = await world.manager.post(path + "/rsvp")
    assert status == 200 and joined["state"] == "joined" and joined["remaining"] == 0
    assert sorted(p["acct"] for p in joined["participants"]) == ["ann", "bob"]
    status, full = await world.outsider.post(path + "/rsvp")
    assert status == 409 and "full" in full["error"]
    status, left = await world.manager.post(path + "/leave")
    assert status == 200 and left["state"] is None and left["remaining"] == 1
    status, again = await world.manager.post(path + "/leave")
    assert status == 404
    status, listing = await world.anonymous.get(f"/communities/{cid}/events")
    assert [e["id"] for e in listing] == [event["id"]]


async def test_approval_mode_and_decisions(world: World) -> None:
    cid = world.community_id
    status, event = await world.member.post(
        f"/communities/{cid}/events", _event(join_mode="approval")
    )
    assert status == 201
    path = f"/communities/{cid}/events/{event['id']}"
    status, asked = await world.outsider.post(path + "/rsvp")
    assert status == 200 and asked["state"] == "pending" and asked["participants_count"] == 1
    decision = {"account_id": str(world.outsider.actor_id), "decision": "accept"}
    status, _ = await world.outsider.post(path + "/decide", decision)
    assert status == 403
    status, decided = await world.manager.post(path + "/decide", decision)
    assert status == 200 and "cy" in [p["acct"] for p in decided["participants"]]
    status, _ = await world.manager.post(path + "/decide", {**decision, "decision": "maybe"})
    assert status == 422


async def test_bad_event_input_writes_nothing(world: World) -> None:
    cid = world.community_id
    path = f"/communities/{cid}/events"
    for bad in (
        {"title": ""},
        {"starts_at": "soon"},
        {"capacity": 0},
        {"capacity": "ten"},
        {"join_mode": "x"},
        {"place": None, "online_url": ""},
        {"audience": "direct"},
        {"place": "Library"},
        {"starts_at": "0001-01-01T00:00:00+14:00"},
        {"title": "a\x00b"},
    ):
        status, body = await world.member.post(path, _event(**bad))
        assert status == 422, (bad, body)
    status, _ = await world.outsider.post(path, _event())
    assert status == 403
    status, _ = await world.anonymous.post(path, _event())
    assert status == 401
    assert await _count(world, t.events) == 0


async def test_community_events_hidden_from_outsiders(world: World) -> None:
    cid = world.community_id
    status, event = await world.member.post(
        f"/communities/{cid}/events", _event(audience="community")
    )
    assert status == 201
    for caller in (world.anonymous, world.outsider):
        status, listing = await caller.get(f"/communities/{cid}/events")
        assert listing == []
        status, _ = await caller.get(f"/communities/{cid}/events/{event['id']}")
        assert status == 404
    status, _ = await world.outsider.post(f"/communities/{cid}/events/{event['id']}/rsvp")
    assert status == 404


async def test_follow_and_support_roadmap_items(world: World) -> None:
    cid = world.community_id
    status, item = await world.member.post(f"/communities/{cid}/roadmap", {"title": "Bee hotel"})
    base = f"/communities/{cid}/roadmap/{item['id']}"
    status, standing = await world.outsider.post(base + "/support")
    assert status == 200 and standing == {
        "item_id": item["id"],
        "supports": 1,
        "followers": 0,
        "following": False,
        "supporting": True,
    }
    status, standing = await world.outsider.post(base + "/support")
    assert standing["supports"] == 1, "one support per person"
    status, standing = await world.manager.post(base + "/support")
    assert standing["supports"] == 2
    status, standing = await world.outsider.post(base + "/unsupport")
    assert standing["supports"] == 1 and not standing["supporting"]
    status, standing = await world.member.post(base + "/follow")
    assert standing["followers"] == 1 and standing["following"]
    status, _ = await world.anonymous.post(base + "/follow")
    assert status == 401
    status, hidden = await world.member.post(
        f"/communities/{cid}/roadmap", {"title": "Budget", "audience": "community"}
    )
    status, _ = await world.outsider.post(f"/communities/{cid}/roadmap/{hidden['id']}/support")
    assert status == 404
    assert await _count(world, t.roadmap_supports) == 1


async def test_item_names_the_purpose_version_it_serves(world: World) -> None:
    cid = world.community_id
    status, item = await world.member.post(
        f"/communities/{cid}/roadmap", {"title": "Roof survey", "purpose_version": 1}
    )
    assert status == 201 and item["purpose_version"] == 1
    status, body = await world.member.post(
        f"/communities/{cid}/roadmap", {"title": "Other", "purpose_version": 7}
    )
    assert status == 422 and body.get("field") == "purpose_version"
