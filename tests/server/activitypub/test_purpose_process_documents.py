"""Where a community's purpose process stands, as ActivityStreams: ``koers:purposePhase`` on the Group,
the process document (proposals and decisions, through the visibility module) and the Group's
``Update`` to its remote members when the phase moves."""

from __future__ import annotations

import sqlalchemy as sa

from server.activitypub.purpose.sync import phase_from
from server.services import communities
from server.services import purpose_phases as phases
from server.services import purpose_proposals as proposals
from server.storage import schema as t

AP = {"Accept": "application/activity+json"}


async def test_group_document_and_process_document(instance) -> None:  # type: ignore[no-untyped-def]
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    client = instance.client
    group = await (await client.get("/communities/garden", headers=AP)).json()
    assert (
        group["koers:purposePhase"]["koers:phase"] == "in_force"
        and group["koers:purposePhase"]["startTime"] is None
    )
    for phase in ("inventory", "discussion", "drafting"):
        await phases.set_phase(instance.ctx, alice.actor_id, garden.id, phase, note="Write with us")
    await proposals.create_proposal(
        instance.ctx, alice.actor_id, garden.id, "Grow food for all", "all"
    )
    group = await (await client.get("/communities/garden", headers=AP)).json()
    found = phase_from(group["koers:purposePhase"])
    assert found is not None and found.phase == "drafting" and found.note == "Write with us"
    assert group["koers:purposeProcess"] == f"{instance.url}/communities/garden/purpose/process"

    # Proposals are community posts: an anonymous fetch sees the phase, not them.
    doc = await (await client.get("/communities/garden/purpose/process", headers=AP)).json()
    assert doc["koers:purposePhase"]["koers:phase"] == "drafting" and doc["koers:proposals"] == []
    assert (await client.get("/communities/nobody/purpose/process", headers=AP)).status == 404


def test_phase_from_refuses_what_it_does_not_understand() -> None:
    assert phase_from({"koers:phase": "drafting", "startTime": "2026-11-01T10:00:00Z"}) is not None
    for bad in (
        None,
        "drafting",
        {"koers:phase": "party", "startTime": "2026-11-01T10:00:00Z"},
        {"koers:phase": "drafting"},
        {"koers:phase": "drafting", "startTime": "yesterday"},
        {"koers:phase": "drafting", "startTime": "2026-11-01T10:00:00Z" * 5},
    ):
        assert phase_from(bad) is None, bad


async def test_phase_change_updates_the_group_for_remote_members(instance) -> None:  # type: ignore[no-untyped-def]
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    await phases.set_phase(
        instance.ctx, alice.actor_id, garden.id, "inventory"
    )  # no remote member: nothing sent
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri="http://b.example/users/bob",
                kind="person",
                username="bob",
                domain="b.example",
                inbox="http://b.example/users/bob/inbox",
                created_at=garden.created_at,
                updated_at=garden.created_at,
            )
        )
        await conn.execute(
            t.follows.insert().values(
                follower_id=int(res.inserted_primary_key[0]),
                target_id=garden.actor_id,
                state="accepted",
                created_at=garden.created_at,
            )
        )
    await phases.set_phase(
        instance.ctx, alice.actor_id, garden.id, "discussion", note="Themes first"
    )
    async with instance.db.read() as conn:
        sent = (
            (
                await conn.execute(
                    sa.select(t.activities.c.document).where(
                        t.activities.c.direction == "out", t.activities.c.type == "Update"
                    )
                )
            )
            .scalars()
            .all()
        )
    (update,) = sent
    assert (
        update["actor"] == f"{instance.url}/communities/garden"
        and update["object"]["type"] == "Group"
    )
    assert update["object"]["koers:purposePhase"]["koers:phase"] == "discussion"
    assert update["object"]["koers:purposePhase"]["summary"] == "Themes first"
