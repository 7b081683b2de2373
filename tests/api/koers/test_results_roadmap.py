"""Koers API: results and the roadmap, with the visibility policy applied, on both backends."""

from __future__ import annotations

from server.services import roles
from tests.api.koers.conftest import World


async def test_publish_and_list_results(world: World) -> None:
    cid = world.community_id
    role_id = await roles.create_role(
        world.instance.ctx, world.manager.actor_id, cid, name="planter"
    )
    status, item = await world.member.post(
        f"/communities/{cid}/roadmap", {"title": "Roof of the library"}
    )
    assert status == 201, item
    status, result = await world.member.post(
        f"/communities/{cid}/results",
        {
            "text": "Planted **40** sedum trays",
            "title": "Library roof done",
            "audience": "public",
            "roadmap_item_id": item["id"],
            "role_ids": [str(role_id)],
        },
    )
    assert status == 201, result
    assert result["title"] == "Library roof done" and "<strong>40</strong>" in result["content"]
    assert result["roadmap_item_id"] == item["id"] and result["roles"] == [
        {"id": str(role_id), "name": "planter"}
    ]
    assert [c["acct"] for c in result["contributors"]] == ["bob"]

    status, members_only = await world.member.post(
        f"/communities/{cid}/results", {"text": "Budget spreadsheet", "audience": "community"}
    )
    assert status == 201
    status, seen = await world.anonymous.get(f"/communities/{cid}/results")
    assert [r["id"] for r in seen] == [result["id"]]
    status, seen = await world.manager.get(f"/communities/{cid}/results")
    assert [r["id"] for r in seen] == [members_only["id"], result["id"]]
    status, page = await world.manager.get(f"/communities/{cid}/results", params={"limit": "1"})
    assert [r["id"] for r in page] == [members_only["id"]]
    status, page = await world.manager.get(
        f"/communities/{cid}/results", params={"max_id": members_only["id"]}
    )
    assert [r["id"] for r in page] == [result["id"]]


async def test_result_bad_input_writes_nothing(world: World) -> None:
    cid = world.community_id
    path = f"/communities/{cid}/results"
    cases = [
        (world.outsider, {"text": "I helped"}, 403),
        (world.member, {"text": "x" * 5001}, 422),
        (world.member, {"text": "ok", "title": "t" * 256}, 422),
        (world.member, {"text": 12}, 422),
        (world.member, {}, 422),
        (world.member, {"text": "ok", "audience": "everyone"}, 422),
        (world.member, {"text": "ok", "role_ids": "1"}, 422),
        (world.member, {"text": "ok", "role_ids": [424242]}, 422),
        (world.member, {"text": "ok", "roadmap_item_id": 424242}, 422),
        (world.member, {"text": "ok", "roadmap_item_id": -3}, 422),
        (world.anonymous, {"text": "ok"}, 401),
    ]
    for caller, body, expected in cases:
        status, answer = await caller.post(path, body)
        assert status == expected, (body, answer)
    status, answer = await world.member.post("/communities/424242/results", {"text": "ok"})
    assert status == 404
    status, listed = await world.manager.get(path)
    assert listed == []
    status, answer = await world.manager.get(path, params={"limit": "many"})
    assert status == 400


async def test_roadmap_items_visibility_and_status_changes(world: World) -> None:
    cid = world.community_id
    status, public = await world.member.post(
        f"/communities/{cid}/roadmap",
        {"title": "Seed swap", "description": "Every *spring*", "status": "planned"},
    )
    assert status == 201, public
    assert public["status"] == "planned" and "<em>spring</em>" in public["description"]
    assert [h["to_status"] for h in public["history"]] == ["planned"]
    status, internal = await world.member.post(
        f"/communities/{cid}/roadmap",
        {"title": "Negotiate with the council", "audience": "community"},
    )
    assert status == 201

    status, seen = await world.anonymous.get(f"/communities/{cid}/roadmap")
    assert [i["title"] for i in seen] == ["Seed swap"]
    status, seen = await world.manager.get(f"/communities/{cid}/roadmap")
    assert {i["title"] for i in seen} == {"Seed swap", "Negotiate with the council"}
    status, _ = await world.outsider.get(f"/communities/{cid}/roadmap/{internal['id']}")
    assert status == 404

    status, moved = await world.member.post(
        f"/communities/{cid}/roadmap/{public['id']}/status",
        {"status": "in_progress", "note": "started"},
    )
    assert status == 200, moved
    assert moved["status"] == "in_progress"
    assert [(h["from_status"], h["to_status"], h["note"]) for h in moved["history"]] == [
        (None, "planned", ""),
        ("planned", "in_progress", "started"),
    ]


async def test_roadmap_bad_input_writes_nothing(world: World) -> None:
    cid = world.community_id
    status, item = await world.member.post(f"/communities/{cid}/roadmap", {"title": "Rain barrels"})
    status, hidden = await world.member.post(
        f"/communities/{cid}/roadmap", {"title": "Secret", "audience": "community"}
    )
    status_path = f"/communities/{cid}/roadmap/{item['id']}/status"
    cases = [
        (world.outsider, f"/communities/{cid}/roadmap", {"title": "Mine"}, 403),
        (world.member, f"/communities/{cid}/roadmap", {"title": "t" * 256}, 422),
        (world.member, f"/communities/{cid}/roadmap", {"title": ["list"]}, 422),
        (world.member, f"/communities/{cid}/roadmap", {"title": "ok", "audience": "direct"}, 422),
        (
            world.member,
            f"/communities/{cid}/roadmap",
            {"title": "ok", "owner_role_id": 424242},
            422,
        ),
        (world.member, f"/communities/{cid}/roadmap", {"title": "ok", "status": "someday"}, 422),
        (world.outsider, status_path, {"status": "done"}, 403),
        (
            world.outsider,
            f"/communities/{cid}/roadmap/{hidden['id']}/status",
            {"status": "done"},
            404,
        ),
        (world.member, status_path, {"status": "finished"}, 422),
        (world.member, status_path, {}, 422),
        (world.member, status_path, {"status": "idea"}, 422),  # already there
        (world.member, status_path, {"status": "done", "note": "n" * 2001}, 422),
        (world.member, f"/communities/{cid}/roadmap/424242/status", {"status": "done"}, 404),
    ]
    for caller, path, body, expected in cases:
        status, answer = await caller.post(path, body)
        assert status == expected, (path, body, answer)
    status, seen = await world.manager.get(f"/communities/{cid}/roadmap")
    assert sorted(i["title"] for i in seen) == ["Rain barrels", "Secret"]
    status, one = await world.manager.get(f"/communities/{cid}/roadmap/{item['id']}")
    assert one["status"] == "idea" and len(one["history"]) == 1
