"""Koers API: ``PATCH /communities/{id}`` — managers change a community's settings."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.api.koers.conftest import World


async def test_manager_patches_settings_others_cannot(world: World) -> None:
    cid = world.community_id
    status, body = await world.manager.call(
        "PATCH",
        f"/communities/{cid}",
        {"name": "Green fingers", "openness": "approval", "accept_outside_ideas": False},
    )
    assert status == 200, body
    assert (
        body["name"] == "Green fingers"
        and body["openness"] == "approval"
        and body["manager"] is True
    )
    async with world.instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.communities).where(t.communities.c.id == cid))).one()
    assert (
        row.accept_outside_ideas is False and row.member_list_visibility == "public"
    )  # left out: unchanged
    for bad in (
        {"openness": "everyone"},
        {"name": ""},
        {"name": 5},
        {"accept_outside_ideas": "no"},
        {"name": "x" * 121},
    ):
        status, body = await world.manager.call("PATCH", f"/communities/{cid}", bad)
        assert status == 422, (bad, body)
    status, _ = await world.member.call("PATCH", f"/communities/{cid}", {"name": "Mine now"})
    assert status == 403
    status, _ = await world.anonymous.call("PATCH", f"/communities/{cid}", {"name": "Mine now"})
    assert status == 401
    status, _ = await world.manager.call("PATCH", "/communities/999999", {"name": "Nothing"})
    assert status == 404
    status, body = await world.anonymous.get(f"/communities/{cid}")
    assert body["name"] == "Green fingers"
