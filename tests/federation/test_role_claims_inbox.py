"""A's Group inbox and claims of its roles from another instance: refused claims are answered with a
``Reject`` naming the ``Join``; a ``Join`` of something that is not a role goes on to the events."""

from __future__ import annotations

import sqlalchemy as sa

from federation.inbox import process_inbox_once
from server.services import communities, roles
from server.storage import schema as t
from tests.federation.conftest import activity_rows, post_activity, signer_for
from tests.federation.e2e_helpers import actor_on


async def _answers(inst, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r.document for r in await activity_rows(inst, "out") if r.type == kind]


async def test_claims_from_afar_that_a_local_member_could_not_make_are_rejected(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    async with a.db.read() as conn:
        alice = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.username == "alice"))
        ).scalar_one()
    energy = await communities.create_community(
        a.ctx, alice, handle="energy", name="Energy Co-op", purpose_text="Sun"
    )
    host = await roles.create_role(a.ctx, alice, energy.id, name="Event host", fill_mode="open")
    owner = await roles.create_role(
        a.ctx, alice, energy.id, name="Roadmap owner", fill_mode="assigned"
    )
    bob = await signer_for(b, "bob")
    inbox = f"{a.url}/communities/energy/inbox"
    host_uri, owner_uri = (f"{a.url}/c/energy/roles/{r}" for r in (host, owner))

    # Not a member: the claim is refused with a Reject of that very Join; nobody holds the role.
    join = bob.activity("Join", object=host_uri)
    assert (await post_activity(inbox, join, bob))[0] == 202
    await process_inbox_once(a.app)
    [reject] = await _answers(a, "Reject")
    assert (
        reject["object"]["id"] == join["id"]
        and reject["object"]["object"] == host_uri
        and reject["to"] == [bob.uri]
    )
    async with a.db.read() as conn:
        assert (await roles.get_role(conn, energy.id, host)).holders == []

    # A member: an assigned role is refused too, an open one is his at once (Accept).
    bob_on_a = await actor_on(a, bob.uri)
    await communities.join(a.ctx, bob_on_a, energy.id)
    for role_uri in (owner_uri, host_uri):
        assert (await post_activity(inbox, bob.activity("Join", object=role_uri), bob))[0] == 202
        await process_inbox_once(a.app)
    assert [r["object"]["object"] for r in await _answers(a, "Reject")] == [host_uri, owner_uri]
    [accept] = [
        r
        for r in await _answers(a, "Accept")
        if isinstance(r["object"], dict) and r["object"].get("type") == "Join"
    ]
    assert accept["object"]["object"] == host_uri and accept["object"]["actor"] == bob.uri
    async with a.db.read() as conn:
        assert [h.id for h in (await roles.get_role(conn, energy.id, host)).holders] == [bob_on_a]

    # Leave gives it up; a Leave of something that is not ours is left to the other handlers.
    assert (await post_activity(inbox, bob.activity("Leave", object=host_uri), bob))[0] == 202
    assert (
        await post_activity(inbox, bob.activity("Leave", object=f"{a.url}/c/energy/roles/999"), bob)
    )[0] == 202
    await process_inbox_once(a.app)
    async with a.db.read() as conn:
        assert (await roles.get_role(conn, energy.id, host)).holders == []
    states = {
        r.document["object"]: r.state for r in await activity_rows(a, "in") if r.type == "Leave"
    }
    assert states[host_uri] == "done" and states[f"{a.url}/c/energy/roles/999"] == "ignored"
