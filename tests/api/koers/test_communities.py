"""Koers API: communities and their purpose, happy paths and bad input, on both backends."""

from __future__ import annotations

from tests.api.koers.conftest import World


async def test_list_get_join_leave_and_members(world: World) -> None:
    cid = world.community_id
    status, listed = await world.anonymous.get("/communities")
    assert status == 200
    assert [c["handle"] for c in listed] == ["gardeners"]
    assert listed[0]["members_count"] == 2 and listed[0]["membership"] is None

    status, mine = await world.manager.get(f"/communities/{cid}")
    assert status == 200 and mine["manager"] is True and mine["membership"] == "accepted"

    status, joined = await world.outsider.post(f"/communities/{cid}/join")
    assert status == 200, joined
    assert joined["membership"] == "accepted" and joined["members_count"] == 3
    status, people = await world.anonymous.get(f"/communities/{cid}/members")
    assert status == 200 and {p["acct"] for p in people} == {"ann", "bob", "cy"}

    status, left = await world.outsider.post(f"/communities/{cid}/leave")
    assert status == 200 and left["membership"] is None and left["members_count"] == 2


async def test_last_manager_cannot_leave_and_nothing_changes(world: World) -> None:
    cid = world.community_id
    status, body = await world.manager.post(f"/communities/{cid}/leave")
    assert status == 403 and "manager" in body["error"]
    status, still = await world.manager.get(f"/communities/{cid}")
    assert still["membership"] == "accepted" and still["manager"] is True


async def test_unknown_and_malformed_community_ids_are_404(world: World) -> None:
    for path in (
        "/communities/999999",
        "/communities/abc",
        "/communities/99999999999999999999999",
        "/communities/0/members",
        "/communities/424242/purpose",
    ):
        status, body = await world.member.get(path)
        assert status == 404, (path, body)
        assert "error" in body
    status, body = await world.member.post("/communities/999999/join")
    assert status == 404


async def test_writes_need_a_token_with_write_scope(world: World) -> None:
    cid = world.community_id
    status, body = await world.anonymous.post(f"/communities/{cid}/join")
    assert status == 401 and body["error"]
    from tests.api.conftest import api_token
    from tests.api.koers.conftest import Caller

    reader = Caller(world.instance, await api_token(world.instance, "cy", scopes="read"))
    status, body = await reader.post(f"/communities/{cid}/join")
    assert status == 403
    status, community = await reader.get(f"/communities/{cid}")
    assert community["membership"] is None and community["members_count"] == 2
    bad = Caller(world.instance, "not-a-token")
    status, _ = await bad.get("/communities")
    assert status == 401


async def test_purpose_current_change_and_history(world: World) -> None:
    cid = world.community_id
    status, current = await world.anonymous.get(f"/communities/{cid}/purpose")
    assert (
        status == 200 and current["version"] == 1 and current["text"] == "Green every roof in town"
    )

    status, new = await world.manager.post(
        f"/communities/{cid}/purpose",
        {"text": "Green every roof and wall", "reason": "walls count too"},
    )
    assert status == 201, new
    assert new["version"] == 2 and new["author"] == "ann" and "wall" in new["html"]
    status, history = await world.member.get(f"/communities/{cid}/purpose/history")
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["reason"] == "walls count too"


async def test_purpose_bad_input_writes_nothing(world: World) -> None:
    cid = world.community_id
    path = f"/communities/{cid}/purpose"
    cases = [
        (world.member, {"text": "Mine now", "reason": "coup"}, 403),
        (world.outsider, {"text": "Mine now", "reason": "coup"}, 403),
        (world.manager, {"text": "x" * 5001, "reason": "long"}, 422),
        (world.manager, {"text": 5, "reason": "typed"}, 422),
        (world.manager, {"text": "No reason given"}, 422),
        (world.manager, {"reason": "no text"}, 422),
        (world.manager, {"text": "   ", "reason": "blank"}, 422),
        (world.manager, ["not", "an", "object"], 400),
    ]
    for caller, body, expected in cases:
        status, answer = await caller.post(path, body)
        assert status == expected, (body, answer)
        assert answer["error"]
    status, answer = await world.manager.post(path, raw=b"{not json")
    assert status == 400 and "JSON" in answer["error"]
    status, history = await world.anonymous.get(f"{path}/history")
    assert [v["version"] for v in history] == [1]


async def test_hidden_member_list_is_refused_to_outsiders(world: World) -> None:
    from server.services import communities

    private = await communities.create_community(
        world.instance.ctx,
        world.manager.actor_id,
        handle="quiet",
        name="Quiet ones",
        purpose_text="Listen",
        member_list_visibility="members",
    )
    for caller in (world.anonymous, world.outsider):
        status, body = await caller.get(f"/communities/{private.id}/members")
        assert status == 403 and "not visible" in body["error"]
    status, people = await world.manager.get(f"/communities/{private.id}/members")
    assert status == 200 and [p["acct"] for p in people] == ["ann"]
