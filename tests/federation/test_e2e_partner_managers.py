"""Partners co-own a community: a manager on A makes a member from partner B a manager (an Add to
the Group's moderators, kept on B), gives a role to someone on B, and cannot do so for a non-partner."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from federation.delivery import enqueue
from server import clock
from server.services import communities, roles
from server.storage import schema as t
from tests.api.conftest import api_token
from tests.conftest import post_form
from tests.federation.e2e_helpers import follow_remote, pump

pytestmark = pytest.mark.slow


async def _managers_on(inst, group_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.actors.c.uri)
            .join(t.community_managers, t.community_managers.c.actor_id == t.actors.c.id)
            .join(t.communities, t.communities.c.id == t.community_managers.c.community_id)
            .where(t.communities.c.actor_id == group_id)
        )
        return {r[0] for r in rows}


async def test_partner_member_becomes_manager_and_role_holder(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    c = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    carol = await c.create_member("carol")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow"
    )
    async with a.db.write() as conn:
        await conn.execute(
            t.partners.insert().values(
                domain=b.settings.domain, name="B org", state="active", created_at=clock.now()
            )
        )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    group_on_c = await follow_remote(c, a, carol.actor_id, "/communities/garden")
    await pump(a, b, c)

    client = await a.login("alice")
    resp = await post_form(
        client,
        "/c/garden/manage/managers",
        {"managers_username": f"@bob@{b.settings.domain}"},
        page="/c/garden/manage",
    )
    assert resp.status == 302, await resp.text()
    # C is no partner of A: its member cannot become a manager.
    resp = await post_form(
        client,
        "/c/garden/manage/managers",
        {"managers_username": f"@carol@{c.settings.domain}"},
        page="/c/garden/manage",
    )
    assert resp.status == 422 and "partner" in await resp.text()
    await pump(a, b, c)
    bob_uri, alice_uri = f"{b.url}/users/bob", f"{a.url}/users/alice"
    # B knew alice from the Group's attributedTo when bob joined, and learnt the new manager from the Add.
    assert await _managers_on(b, group_on_b) == {alice_uri, bob_uri}
    assert await _managers_on(c, group_on_c) == {alice_uri, bob_uri}
    # bob, a manager but not on the Group's host, tells C that carol manages garden: C does not believe it.
    async with b.db.write() as conn:
        forged = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{bob_uri}#add-carol",
            "type": "Add",
            "actor": bob_uri,
            "object": f"{c.url}/users/carol",
            "target": f"{a.url}/communities/garden/moderators",
        }
        await enqueue(conn, activity=forged, actor_id=bob.actor_id, inboxes=[f"{c.url}/inbox"])
    await pump(a, b, c)
    assert await _managers_on(c, group_on_c) == {alice_uri, bob_uri}
    doc = await (
        await a.client.get(
            "/communities/garden/moderators", headers={"Accept": "application/activity+json"}
        )
    ).json()
    assert set(doc["orderedItems"]) == {alice_uri, bob_uri}
    assert "bob" in await (await client.get("/c/garden")).text()
    # B's own client API tells bob he manages the (remote) community.
    token = await api_token(b, "bob")
    async with b.db.read() as conn:
        garden_on_b = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group_on_b)
            )
        ).scalar_one()
    seen = await (
        await b.client.get(
            f"/api/koers/v1/communities/{garden_on_b}", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert seen["manager"] is True

    # A role on A given to the person on B through the web form: B shows it as held.
    role_id = await roles.create_role(
        a.ctx, alice.actor_id, garden.id, name="Seed keeper", fill_mode="assigned"
    )
    resp = await post_form(
        client,
        f"/c/garden/roles/{role_id}/assign",
        {"username": f"@bob@{b.settings.domain}"},
        page=f"/c/garden/roles/{role_id}",
    )
    assert resp.status == 302, await resp.text()
    await pump(a, b, c)
    async with b.db.read() as conn:
        held = (
            (
                await conn.execute(
                    sa.select(t.roles.c.name)
                    .join(t.role_holders, t.role_holders.c.role_id == t.roles.c.id)
                    .where(t.role_holders.c.actor_id == bob.actor_id)
                )
            )
            .scalars()
            .all()
        )
    assert held == ["Seed keeper"]

    # Removing the manager on A removes them on B too.
    async with a.db.read() as conn:
        bob_on_a = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == bob_uri))
        ).scalar_one()
    await communities.remove_manager(a.ctx, alice.actor_id, garden.id, bob_on_a)
    await pump(a, b, c)
    assert await _managers_on(b, group_on_b) == {alice_uri}
