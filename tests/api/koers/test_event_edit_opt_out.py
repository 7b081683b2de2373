"""Koers API: changing an event (PATCH; organiser and managers, same checks as organising) and a
member's own insights opt-out (GET/PUT)."""

from __future__ import annotations

from datetime import timedelta

from server import clock
from server.services import insights
from tests.api.koers.conftest import World

SOON = (clock.now() + timedelta(days=3)).replace(microsecond=0)


async def _organised(world: World) -> str:
    body = {
        "title": "Workshop",
        "starts_at": SOON.isoformat(),
        "place": {"name": "Library"},
        "capacity": 10,
    }
    status, event = await world.member.post(f"/communities/{world.community_id}/events", body)
    assert status == 201, event
    return f"/communities/{world.community_id}/events/{event['id']}"


async def test_organiser_and_manager_change_an_event_others_may_not(world: World) -> None:
    path = await _organised(world)
    later = (SOON + timedelta(days=1)).isoformat()
    status, changed = await world.member.call(
        "PATCH", path, {"title": "Workshop (moved)", "starts_at": later}
    )
    assert status == 200, changed
    assert changed["title"] == "Workshop (moved)" and changed["starts_at"].startswith(later[:16])
    # Fields left out keep their value.
    assert changed["place"]["name"] == "Library" and changed["capacity"] == 10
    status, changed = await world.manager.call(
        "PATCH", path, {"capacity": None, "place": {"name": "Town hall"}}
    )
    assert status == 200 and changed["capacity"] is None and changed["place"]["name"] == "Town hall"
    status, _ = await world.outsider.call("PATCH", path, {"title": "Mine now"})
    assert status == 403
    status, _ = await world.anonymous.call("PATCH", path, {"title": "Mine now"})
    assert status == 401
    status, again = await world.anonymous.get(path)
    assert again["title"] == "Workshop (moved)"


async def test_bad_changes_are_refused_and_nothing_is_written(world: World) -> None:
    path = await _organised(world)
    for body, field in (
        ({"title": " "}, "title"),
        ({"ends_at": (SOON - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"capacity": 0}, "capacity"),
        ({"join_mode": "lottery"}, "join_mode"),
        ({"place": "here"}, "place"),
    ):
        status, error = await world.member.call("PATCH", path, body)
        assert status == 422, (body, error)
        assert field in error["error"]
    status, event = await world.member.get(path)
    assert event["title"] == "Workshop" and event["capacity"] == 10
    status, _ = await world.member.call(
        "PATCH", f"/communities/{world.community_id}/events/999999", {"title": "x"}
    )
    assert status == 404


async def test_opt_out_of_insights_and_back(world: World) -> None:
    path = f"/communities/{world.community_id}/insights/opt_out"
    status, state = await world.member.get(path)
    assert status == 200 and state == {
        "community_id": str(world.community_id),
        "opted_out": False,
        "applies_to": "all_communities",
    }
    status, data = await world.manager.get(f"/communities/{world.community_id}/insights")
    assert str(world.member.actor_id) in [p["account"]["id"] for p in data["people"]]
    status, state = await world.member.put(path, {"opted_out": True})
    assert status == 200 and state["opted_out"] is True
    async with world.instance.db.read() as conn:
        assert await insights.is_opted_out(conn, world.member.actor_id)
    # The managers' view no longer names them.
    status, data = await world.manager.get(f"/communities/{world.community_id}/insights")
    assert status == 200 and str(world.member.actor_id) not in [
        p["account"]["id"] for p in data["people"]
    ]
    assert (await world.member.get(f"/communities/{world.community_id}/insights/me"))[1][
        "opted_out"
    ] is True
    status, state = await world.member.put(path, {"opted_out": False})
    assert status == 200 and state["opted_out"] is False
    status, error = await world.member.put(path, {"opted_out": "yes"})
    assert status == 422 and "opted_out" in error["error"]
    assert (await world.anonymous.get(path))[0] == 401
    assert (await world.member.get("/communities/999999/insights/opt_out"))[0] == 404
