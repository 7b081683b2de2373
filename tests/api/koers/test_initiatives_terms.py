"""Koers API: starting and listing initiatives; role terms (set, renew, per-holder ends) on both backends."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.services import role_terms, roles
from server.storage import schema as t
from tests.api.koers.conftest import World


async def test_start_and_list_initiatives(world: World) -> None:
    path = f"/communities/{world.community_id}/initiatives"
    status, body = await world.member.post(path, {"title": "Seed swap", "description": "In May"})
    assert (
        status == 201 and body["status"] == "idea" and body["lead_id"] == str(world.member.actor_id)
    )
    status, hidden = await world.member.post(
        path, {"title": "Budget talk", "audience": "community"}
    )
    assert status == 201
    status, listed = await world.anonymous.get(path)
    assert status == 200 and [(i["title"], i["lead"], i["participants_count"]) for i in listed] == [
        ("Seed swap", "bob", 0)
    ]
    status, listed = await world.manager.get(path)
    assert {i["title"] for i in listed} == {"Seed swap", "Budget talk"}
    # the lead changes the status like an owner; an outsider cannot start one; bad input writes nothing
    status, _ = await world.member.post(
        f"/communities/{world.community_id}/roadmap/{body['id']}/status", {"status": "planned"}
    )
    assert status == 200
    async with world.instance.db.read() as conn:
        before = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.roadmap_items))
        ).scalar()
    assert (await world.outsider.post(path, {"title": "Mine"}))[0] == 403
    assert (await world.member.post(path, {"title": ""}))[0] == 422
    assert (await world.member.post(path, {"title": "x", "audience": "everyone"}))[0] == 422
    assert (await world.anonymous.post(path, {"title": "x"}))[0] == 401
    async with world.instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.roadmap_items))
        ).scalar() == before


async def test_role_terms_through_the_api(world: World) -> None:
    role_id = await roles.create_role(
        world.instance.ctx, world.manager.actor_id, world.community_id, name="Host"
    )
    assert (await world.member.post(f"/roles/{role_id}/term", {"term_days": 30}))[0] == 403
    for bad in ({"term_days": 0}, {"term_days": "30"}, {"term_days": True}, {}):
        assert (await world.manager.post(f"/roles/{role_id}/term", bad))[0] == 422
    status, body = await world.manager.post(f"/roles/{role_id}/term", {"term_days": 30})
    assert status == 200 and body == {"role_id": str(role_id), "term_days": 30}
    await world.member.post(f"/roles/{role_id}/claim")
    status, listed = await world.anonymous.get(f"/communities/{world.community_id}/roles")
    role = next(r for r in listed if r["id"] == str(role_id))
    [term] = role["holder_terms"]
    assert role["term_days"] == 30 and term["account_id"] == str(world.member.actor_id)
    assert term["ends_at"] and term["up_for_reconsideration"] is False
    assert (
        await role_terms.sweep_role_terms(world.instance.ctx, clock.now() + timedelta(days=31)) == 1
    )
    async with world.instance.db.write() as conn:
        await conn.execute(t.role_holders.update().values(ends_at=clock.now() - timedelta(days=1)))
    status, listed = await world.anonymous.get(f"/communities/{world.community_id}/roles")
    assert (
        next(r for r in listed if r["id"] == str(role_id))["holder_terms"][0][
            "up_for_reconsideration"
        ]
        is True
    )
    assert (
        await world.outsider.post(f"/roles/{role_id}/renew", {"account_id": world.member.actor_id})
    )[0] == 403
    status, body = await world.member.post(f"/roles/{role_id}/renew", {})
    assert status == 200 and body["account_id"] == str(world.member.actor_id) and body["ends_at"]
    status, listed = await world.anonymous.get(f"/communities/{world.community_id}/roles")
    assert (
        next(r for r in listed if r["id"] == str(role_id))["holder_terms"][0][
            "up_for_reconsideration"
        ]
        is False
    )
