"""Community settings page for managers, and the join-approval notification (local and remote)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.services import communities
from server.storage import schema as t
from tests.conftest import post_form
from tests.federation.e2e_helpers import follow_remote, follow_state, pump

FORM = {
    "name": "Garden club",
    "description": "We grow *vegetables*",
    "openness": "approval",
    "member_list_visibility": "members",
    "accept_outside_ideas": "",
}


async def _community_row(inst, **where):  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        q = sa.select(t.communities)
        for key, value in where.items():
            q = q.where(getattr(t.communities.c, key) == value)
        return (await conn.execute(q)).one()


async def _notes(inst, actor_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return [
            r[0]
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(t.notifications.c.actor_id == actor_id)
            )
        ]


async def test_manager_edits_settings_and_others_cannot(instance) -> None:
    alice = await instance.create_member("alice")
    await instance.create_member("bob")
    garden = await communities.create_community(
        instance.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow"
    )
    client = await instance.login("alice")
    page = await client.get("/c/garden/settings")
    assert page.status == 200 and 'value="Garden"' in await page.text()
    assert "/c/garden/settings" in await (await client.get("/c/garden/manage")).text()
    resp = await post_form(client, "/c/garden/settings", dict(FORM), page="/c/garden/settings")
    assert resp.status == 302
    row = await _community_row(instance, id=garden.id)
    assert (row.name, row.openness, row.member_list_visibility, row.accept_outside_ideas) == (
        "Garden club",
        "approval",
        "members",
        False,
    )
    assert "<em>vegetables</em>" in row.description_html
    html = await (await client.get("/c/garden")).text()
    assert "Garden club" in html and "Join on approval" in html
    # Bad input: the form comes back with the error, nothing is written.
    resp = await post_form(
        client,
        "/c/garden/settings",
        {**FORM, "name": " ", "openness": "open"},
        page="/c/garden/settings",
    )
    assert resp.status == 422 and "aria-describedby" in await resp.text()
    assert (await _community_row(instance, id=garden.id)).openness == "approval"
    resp = await post_form(
        client, "/c/garden/settings", {**FORM, "openness": "everyone"}, page="/c/garden/settings"
    )
    assert resp.status == 422
    # A member who is not a manager, and a visitor, cannot.
    bob = await instance.login("bob")
    assert (await bob.get("/c/garden/settings")).status == 403
    assert (await post_form(bob, "/c/garden/settings", dict(FORM), page="/c/garden")).status == 403
    anon = await instance.client.get("/c/garden/settings", allow_redirects=False)
    assert anon.status == 302 and anon.headers["Location"].startswith("/login")


async def test_approved_join_request_notifies_the_person(instance) -> None:
    alice = await instance.create_member("alice")
    bea = await instance.create_member("bea")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow",
        openness="approval",
    )
    assert await communities.join(instance.ctx, bea.actor_id, garden.id) == "pending"
    assert "koers.join_approved" not in await _notes(instance, bea.actor_id)
    client = await instance.login("alice")
    resp = await post_form(
        client,
        "/c/garden/manage/requests",
        {"actor_id": str(bea.actor_id), "decision": "approve"},
        page="/c/garden/manage",
    )
    assert resp.status == 302
    assert await _notes(instance, bea.actor_id) == ["koers.join_approved"]
    bea_client = await instance.login("bea")
    assert "approved your request to join" in await (await bea_client.get("/notifications")).text()


@pytest.mark.slow
async def test_remote_member_learns_approval_and_settings(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow",
        openness="approval",
    )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    assert await follow_state(b, bob.actor_id, group_on_b) == "pending"
    async with a.db.read() as conn:
        bob_on_a = (
            await conn.execute(
                sa.select(t.actors.c.id).where(t.actors.c.uri == f"{b.url}/users/bob")
            )
        ).scalar_one()
    await communities.approve_join(a.ctx, alice.actor_id, garden.id, bob_on_a)
    await pump(a, b)
    assert await follow_state(b, bob.actor_id, group_on_b) == "accepted"
    assert "koers.join_approved" in await _notes(b, bob.actor_id)

    client = await a.login("alice")
    resp = await post_form(
        client, "/c/garden/settings", {**FORM, "openness": "open"}, page="/c/garden/settings"
    )
    assert resp.status == 302
    await pump(a, b)
    on_b = await _community_row(b, actor_id=group_on_b)
    assert (on_b.name, on_b.openness) == (
        "Garden club",
        "open",
    ) and "vegetables" in on_b.description_html
