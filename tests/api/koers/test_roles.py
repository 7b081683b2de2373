"""Koers API: roles (claim, release, assign, unassign) and competencies, on both backends."""

from __future__ import annotations

from server.services import roles
from tests.api.koers.conftest import World


async def _role(world: World, name: str, fill_mode: str) -> int:
    return await roles.create_role(
        world.instance.ctx,
        world.manager.actor_id,
        world.community_id,
        name=name,
        fill_mode=fill_mode,
        competencies=[("composting", "practised")],
    )


async def _holders(world: World, role_id: int) -> tuple[list[str], list[str]]:
    status, listed = await world.anonymous.get(f"/communities/{world.community_id}/roles")
    assert status == 200
    role = next(r for r in listed if r["id"] == str(role_id))
    return [h["acct"] for h in role["holders"]], [h["acct"] for h in role["requested"]]


async def test_claim_and_release_an_open_role(world: World) -> None:
    host = await _role(world, "event host", "open")
    status, body = await world.member.post(f"/roles/{host}/claim")
    assert status == 200 and body == {
        "role_id": str(host),
        "account_id": str(world.member.actor_id),
        "state": "held",
    }
    assert await _holders(world, host) == (["bob"], [])
    status, listed = await world.anonymous.get(f"/communities/{world.community_id}/roles")
    assert listed[0]["competencies"] == [{"name": "composting", "level": "practised"}]

    status, body = await world.member.post(f"/roles/{host}/claim")
    assert status == 409
    status, body = await world.member.post(f"/roles/{host}/release")
    assert status == 200 and body["state"] is None
    assert await _holders(world, host) == ([], [])


async def test_approval_role_is_requested_then_assigned(world: World) -> None:
    owner = await _role(world, "roadmap owner", "approval")
    status, body = await world.member.post(f"/roles/{owner}/claim")
    assert status == 200 and body["state"] == "requested"
    assert await _holders(world, owner) == ([], ["bob"])
    status, body = await world.manager.post(
        f"/roles/{owner}/assign", {"account_id": str(world.member.actor_id)}
    )
    assert status == 200 and body["state"] == "held"
    assert await _holders(world, owner) == (["bob"], [])
    status, body = await world.manager.post(
        f"/roles/{owner}/unassign", {"account_id": world.member.actor_id}
    )
    assert status == 200
    assert await _holders(world, owner) == ([], [])


async def test_role_rules_and_bad_input_change_nothing(world: World) -> None:
    assigned = await _role(world, "treasurer", "assigned")
    host = await _role(world, "host", "open")
    cases = [
        (world.member, f"/roles/{assigned}/claim", None, 403),  # assigned roles cannot be claimed
        (world.outsider, f"/roles/{host}/claim", None, 403),  # join first
        (
            world.member,
            f"/roles/{assigned}/assign",
            {"account_id": world.member.actor_id},
            403,
        ),  # not a manager
        (
            world.manager,
            f"/roles/{assigned}/assign",
            {"account_id": world.outsider.actor_id},
            422,
        ),  # not a member
        (world.manager, f"/roles/{assigned}/assign", {"account_id": "bob"}, 422),
        (world.manager, f"/roles/{assigned}/assign", {"account_id": True}, 422),
        (world.manager, f"/roles/{assigned}/assign", {}, 422),
        (world.manager, "/roles/987654/assign", {"account_id": world.member.actor_id}, 404),
        (world.member, "/roles/987654/claim", None, 404),
        (world.member, f"/roles/{host}/release", None, 404),  # never held
        (world.anonymous, f"/roles/{host}/claim", None, 401),
    ]
    for caller, path, body, expected in cases:
        status, answer = await caller.post(path, body)
        assert status == expected, (path, body, answer)
        assert answer["error"]
    assert await _holders(world, assigned) == ([], [])
    assert await _holders(world, host) == ([], [])


async def test_competencies_own_and_people_search(world: World) -> None:
    status, body = await world.member.put(
        "/competencies",
        {"competencies": [{"name": "Composting", "level": "expert"}, {"name": "welding"}]},
    )
    assert status == 200, body
    assert body == [{"name": "composting", "level": "expert"}, {"name": "welding", "level": None}]
    status, own = await world.member.get("/competencies")
    assert own == body
    await world.outsider.put(
        "/competencies", {"competencies": [{"name": "compost tea", "level": "learning"}]}
    )

    status, people = await world.anonymous.get("/people", params={"competency": "compost"})
    assert status == 200
    assert [(p["acct"], p["level"]) for p in people] == [("bob", "expert"), ("cy", "learning")]
    status, answer = await world.anonymous.get("/people")
    assert status == 400


async def test_competencies_bad_input_writes_nothing(world: World) -> None:
    await world.member.put("/competencies", {"competencies": [{"name": "pruning"}]})
    for body, expected in [
        ({"competencies": [{"name": "x", "level": "guru"}]}, 422),
        ({"competencies": [{"name": "y" * 101}]}, 422),
        ({"competencies": [{"name": 7}]}, 422),
        ({"competencies": "pruning"}, 422),
        ({"competencies": [{"name": f"c{i}"} for i in range(31)]}, 422),
        ({}, 422),
        ([1, 2], 400),
    ]:
        status, answer = await world.member.put("/competencies", body)
        assert status == expected, (body, answer)
    status, own = await world.member.get("/competencies")
    assert own == [{"name": "pruning", "level": None}]
    status, _ = await world.anonymous.get("/competencies")
    assert status == 401
