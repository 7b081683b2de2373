"""Koers API on the roles of a community hosted on another instance: listed with holders and terms as
the origin published them; a claim is pending here and sent to the Group as a ``Join``."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.api.conftest import api_token
from tests.api.koers.conftest import API
from tests.server.web.test_remote_roles_page import ORIGIN, _join, _sent, _setup


async def test_remote_roles_through_the_api(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id, _ = await _setup(instance)
    bob = await instance.create_member("bob")
    await _join(instance, bob.actor_id, group_id)
    headers = {"Authorization": f"Bearer {await api_token(instance, 'bob')}"}
    resp = await instance.client.get(f"{API}/communities/{community_id}/roles", headers=headers)
    assert resp.status == 200
    listed = {r["name"]: r for r in await resp.json()}
    host = listed["Event host"]
    assert (
        host["uri"] == f"{ORIGIN}/c/energy/roles/1"
        and host["fill_mode"] == "open"
        and host["term_days"] == 30
    )
    assert [h["acct"] for h in host["holders"]] == ["dirk@a.example:8080"]
    assert host["holder_terms"][0]["up_for_reconsideration"] is True

    resp = await instance.client.post(f"{API}/roles/{host['id']}/claim", headers=headers)
    assert resp.status == 200 and (await resp.json())["state"] == "requested"
    [join] = await _sent(instance, "Join")
    assert join["object"] == host["uri"]
    resp = await instance.client.post(
        f"{API}/roles/{listed['Roadmap owner']['id']}/claim", headers=headers
    )
    assert resp.status == 403
    async with instance.db.read() as conn:
        states = [
            r[0]
            for r in await conn.execute(
                sa.select(t.role_holders.c.state).where(t.role_holders.c.actor_id == bob.actor_id)
            )
        ]
    assert states == ["requested"]
