"""Roles across instances: bob on B sees the roles of A's community on B's page after joining, claims
an open role from there (A holds him as its holder, B shows it), A's manager edits an event (B's copy
moves) and a role term ends on A (B's page says so)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from server import clock
from server.services import communities, posts, role_terms, roles
from server.services import community_events as events
from server.storage import schema as t
from tests.conftest import post_form
from tests.federation.e2e_helpers import actor_on, pump

pytestmark = pytest.mark.slow


async def _role_id_on(inst, uri: str) -> int:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return int(
            (await conn.execute(sa.select(t.roles.c.id).where(t.roles.c.uri == uri))).scalar_one()
        )


async def test_roles_events_and_terms_follow_across_instances(make_instance) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    await b.create_member("bob")
    energy = await communities.create_community(
        a.ctx,
        alice.actor_id,
        handle="energy",
        name="Energy Co-op",
        purpose_text="Power the street with the sun",
    )
    host_role = await roles.create_role(
        a.ctx,
        alice.actor_id,
        energy.id,
        name="Event host",
        fill_mode="open",
        competencies=[("hosting", None)],
        term_days=30,
    )
    await roles.create_role(
        a.ctx, alice.actor_id, energy.id, name="Roadmap owner", fill_mode="assigned"
    )
    await roles.assign_role(
        a.ctx, alice.actor_id, (await roles_of(a, energy.id))["Roadmap owner"], alice.actor_id
    )
    event_id = await events.create_event(
        a.ctx,
        alice.actor_id,
        energy.id,
        events.EventInput(
            title="Roof survey",
            starts_at=(clock.now() + timedelta(days=2)).replace(microsecond=0),
            place_name="Hall",
        ),
    )
    await pump(a, b)
    client = await b.login("bob")
    page = f"/c/energy@{a.settings.domain}"
    await client.get(
        f"/authorize_interaction?uri={quote(a.url + '/communities/energy', safe='')}",
        allow_redirects=False,
    )
    assert (await post_form(client, page + "/join", {}, page=page)).status == 302
    await pump(a, b)

    # After joining, B knows A's roles: fill mode, competencies, holders.
    html = await (await client.get(page + "/roles")).text()
    assert "Event host" in html and "Roadmap owner" in html and "hosting" in html
    assert "Assigned by managers" in html and "@alice@" in html and "Claim this role" in html

    # Claim the open role from B: pending, then A holds bob and both pages say so.
    host_uri = f"{a.url}/c/energy/roles/{host_role}"
    on_b = await _role_id_on(b, host_uri)
    res = await post_form(client, f"{page}/roles/{on_b}/claim", {}, page=page + "/roles")
    assert res.status == 302
    assert "waiting for an answer" in await (await client.get(page + "/roles")).text()
    await pump(a, b)
    bob_on_a = await actor_on(a, f"{b.url}/users/bob")
    async with a.db.read() as conn:
        held = await roles.get_role(conn, energy.id, host_role)
    assert [h.id for h in held.holders] == [bob_on_a]
    a_page = await (await (await a.new_client()).get(f"/c/energy/roles/{host_role}")).text()
    assert f"@bob@{b.settings.domain}" in a_page
    html = await (await client.get(page + "/roles")).text()
    assert "You hold this role." in html and "Give up this role" in html and "term ends" in html
    profile = await (
        await client.get("/@bob")
    ).text()  # his profile here links to the role on B's page
    assert f'href="{page}/roles#role-{on_b}"' in profile and f'href="{page}"' in profile

    # A result delivered by the role: on B its card links to the role on B's roles page, not to a 404.
    await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="First street party hosted",
            audience=posts.Audience("public"),
            community_id=energy.id,
            kind="result",
            role_ids=(host_role,),
        ),
    )
    await pump(a, b)
    html = await (await client.get(page)).text()
    assert "First street party hosted" in html and f'href="{page}/roles#role-{on_b}"' in html
    assert f'id="role-{on_b}"' in await (await client.get(page + "/roles")).text()

    # A's manager edits the event: B's copy moves to the new time.
    new_start = (clock.now() + timedelta(days=5)).replace(microsecond=0, second=0)
    res = await post_form(
        await a.login("alice"),
        f"/c/energy/events/{event_id}/edit",
        {
            "title": "Roof survey (moved)",
            "starts_at": new_start.strftime("%Y-%m-%dT%H:%M"),
            "place_name": "Hall",
            "audience": "public",
            "join_mode": "free",
        },
        page=f"/c/energy/events/{event_id}/edit",
    )
    assert res.status == 302, await res.text()
    await pump(a, b)
    async with b.db.read() as conn:
        copy = (
            await conn.execute(
                sa.select(t.events).where(t.events.c.uri == f"{a.url}/c/energy/events/{event_id}")
            )
        ).one()
    assert copy.title == "Roof survey (moved)" and clock.aware(copy.starts_at) == new_start
    assert "Roof survey (moved)" in await (await client.get(page)).text()

    # Bob's term ends on A: B's page shows it is up for reconsideration.
    async with a.db.write() as conn:
        await conn.execute(
            t.role_holders.update()
            .where(t.role_holders.c.role_id == host_role)
            .values(ends_at=clock.now() - timedelta(hours=1))
        )
    assert await role_terms.sweep_role_terms(a.ctx) == 1
    await pump(a, b)
    html = await (await client.get(page + "/roles")).text()
    assert "term ended" in html and "up for reconsideration" in html
    async with b.db.read() as conn:
        told = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.notifications)
                .where(t.notifications.c.type == "koers.role_term_ended")
            )
        ).scalar_one()
    assert told == 1  # bob hears it on B, once

    # Giving it up from B: A no longer lists bob.
    res = await post_form(client, f"{page}/roles/{on_b}/release", {}, page=page + "/roles")
    assert res.status == 302
    await pump(a, b)
    async with a.db.read() as conn:
        assert (await roles.get_role(conn, energy.id, host_role)).holders == []
    assert "Claim this role" in await (await client.get(page + "/roles")).text()


async def roles_of(inst, community_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return {r.name: r.id for r in await roles.roles_of(conn, community_id)}


async def test_claims_of_approval_roles_wait_for_a_manager(make_instance) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    await b.create_member("bob")
    await b.create_member("cas")
    energy = await communities.create_community(
        a.ctx,
        alice.actor_id,
        handle="energy",
        name="Energy Co-op",
        purpose_text="Power the street with the sun",
    )
    analyst = await roles.create_role(
        a.ctx, alice.actor_id, energy.id, name="Data analyst", fill_mode="approval"
    )
    page = f"/c/energy@{a.settings.domain}"
    clients = {}
    for name in ("bob", "cas"):
        clients[name] = client = await b.login(name)
        await client.get(
            f"/authorize_interaction?uri={quote(a.url + '/communities/energy', safe='')}",
            allow_redirects=False,
        )
        assert (await post_form(client, page + "/join", {}, page=page)).status == 302
        await pump(a, b)
    on_b = await _role_id_on(b, f"{a.url}/c/energy/roles/{analyst}")
    for name in ("bob", "cas"):
        html = await (await clients[name].get(page + "/roles")).text()
        assert "Ask for this role" in html
        assert (
            await post_form(clients[name], f"{page}/roles/{on_b}/claim", {}, page=page + "/roles")
        ).status == 302
    await pump(a, b)

    # On A both ask; nobody holds it yet, and B still says the claims wait.
    bob_on_a, cas_on_a = [await actor_on(a, f"{b.url}/users/{n}") for n in ("bob", "cas")]
    async with a.db.read() as conn:
        role = await roles.get_role(conn, energy.id, analyst)
    assert role.holders == [] and {p.id for p in role.requested} == {bob_on_a, cas_on_a}
    assert "waiting for an answer" in await (await clients["bob"].get(page + "/roles")).text()

    # Alice approves bob (Accept: he holds it on B) and declines cas (Reject: her claim is gone).
    await roles.assign_role(a.ctx, alice.actor_id, analyst, bob_on_a)
    await roles.unassign_role(a.ctx, alice.actor_id, analyst, cas_on_a)
    await pump(a, b)
    assert "You hold this role." in await (await clients["bob"].get(page + "/roles")).text()
    html = await (await clients["cas"].get(page + "/roles")).text()
    assert (
        "waiting for an answer" not in html
        and "Ask for this role" in html
        and f"@bob@{b.settings.domain}" not in html
    )
    assert 'href="/@bob"' in html  # bob is listed as the holder (a local account on B)
