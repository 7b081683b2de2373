"""A fediverse account on another instance follows a roadmap item and receives its status changes
as ``Update``s, supports it with a ``Like``, and RSVPs to a community event (``Join`` → ``Accept``,
listed as a participant; ``Leave`` removes it; a full event answers ``Reject``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from federation.delivery import enqueue, inboxes_for
from server import clock
from server.activitypub.core.vocab import first_id
from server.services import communities, roadmap, roadmap_social
from server.services import community_events as events
from server.storage import schema as t
from tests.federation.e2e_helpers import actor_on, pump, remote_id

pytestmark = pytest.mark.slow
SOON = (clock.now() + timedelta(days=2)).replace(microsecond=0)


async def _send(inst, actor_id: int, target_id: int, doc: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """``actor_id`` on ``inst`` sends ``doc`` to ``target_id``'s inbox (as any fediverse server would)."""
    async with inst.db.write() as conn:
        await enqueue(
            conn, activity=doc, actor_id=actor_id, inboxes=await inboxes_for(conn, [target_id])
        )


async def _received(inst, kind: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.activities.c.document)
            .where(t.activities.c.direction == "in", t.activities.c.type == kind)
            .order_by(t.activities.c.id)
        )
        return [r[0] for r in rows]


async def test_remote_account_follows_item_and_rsvps(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    zoe = await b.create_member("zoe")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    item_id = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Bee hotel", status="planned"
    )
    item_uri = f"{a.url}/c/garden/roadmap/{item_id}"
    group_on_b = await remote_id(b, a, "/communities/garden")
    zoe_uri = f"{b.url}/users/zoe"

    # Follow of the item (its id), as Mastodon would send it
    await _send(
        b,
        zoe.actor_id,
        group_on_b,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zoe_uri}#follow-item",
            "type": "Follow",
            "actor": zoe_uri,
            "object": item_uri,
        },
    )
    await pump(a, b)
    zoe_on_a = await actor_on(a, zoe_uri)
    assert zoe_on_a is not None
    async with a.db.read() as conn:
        standing = await roadmap_social.standing(conn, item_id, zoe_on_a)
    assert standing.following and standing.followers == 1
    accepts = await _received(b, "Accept")
    assert accepts and first_id(accepts[-1]["object"]) == f"{zoe_uri}#follow-item"

    # a Like of the item is a support; Undo takes it back
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{zoe_uri}#like-item",
        "type": "Like",
        "actor": zoe_uri,
        "object": item_uri,
    }
    await _send(b, zoe.actor_id, group_on_b, like)
    await pump(a, b)
    async with a.db.read() as conn:
        assert (await roadmap_social.standing(conn, item_id, zoe_on_a)).supporting
    page = await (await a.client.get(f"/c/garden/roadmap/{item_id}")).text()
    assert "1 support" in page and "1 follower" in page

    # status changes reach the follower as Updates of the item
    await roadmap.change_status(a.ctx, alice.actor_id, item_id, "in_progress", "hammers out")
    await roadmap.change_status(a.ctx, alice.actor_id, item_id, "done")
    await pump(a, b)
    updates = [
        u
        for u in await _received(b, "Update")
        if isinstance(u["object"], dict) and u["object"]["id"] == item_uri
    ]
    assert sorted(u["object"]["koers:status"] for u in updates) == [
        "done",
        "in_progress",
    ]  # delivery order may vary

    await _send(
        b,
        zoe.actor_id,
        group_on_b,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zoe_uri}#undo-like",
            "type": "Undo",
            "actor": zoe_uri,
            "object": {k: v for k, v in like.items() if k != "@context"},
        },
    )
    await pump(a, b)
    async with a.db.read() as conn:
        assert not (await roadmap_social.standing(conn, item_id, zoe_on_a)).supporting

    # RSVP to an event: Join → Accept, shown as a participant; Leave removes it
    event_id = await events.create_event(
        a.ctx,
        alice.actor_id,
        garden.id,
        events.EventInput(
            title="Networking drinks", starts_at=SOON, place_name="De Kroeg", capacity=2
        ),
    )
    event_uri = f"{a.url}/c/garden/events/{event_id}"
    join = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{zoe_uri}#join-1",
        "type": "Join",
        "actor": zoe_uri,
        "object": event_uri,
    }
    await _send(b, zoe.actor_id, group_on_b, join)
    await pump(a, b)
    page = await (await a.client.get(f"/c/garden/events/{event_id}")).text()
    assert f"@zoe@{b.ctx.settings.domain}" in page and "2 going of 2" in page
    accepts = [first_id(x["object"]) for x in await _received(b, "Accept")]
    assert f"{zoe_uri}#join-1" in accepts

    # the event is full now: another account is rejected with the reason kept
    yan = await b.create_member("yan")
    yan_uri = f"{b.url}/users/yan"
    await _send(b, yan.actor_id, group_on_b, {**join, "id": f"{yan_uri}#join-1", "actor": yan_uri})
    await pump(a, b)
    rejects = [first_id(x["object"]) for x in await _received(b, "Reject")]
    assert rejects == [f"{yan_uri}#join-1"]

    await _send(
        b,
        zoe.actor_id,
        group_on_b,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zoe_uri}#leave-1",
            "type": "Leave",
            "actor": zoe_uri,
            "object": event_uri,
        },
    )
    await pump(a, b)
    page = await (await a.client.get(f"/c/garden/events/{event_id}")).text()
    assert "@zoe@" not in page and "1 going of 2" in page


async def test_event_creation_federates_to_remote_members(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    from tests.federation.e2e_helpers import follow_remote

    await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    event_id = await events.create_event(
        a.ctx,
        alice.actor_id,
        garden.id,
        events.EventInput(title="Workshop composting", starts_at=SOON, place_name="Shed"),
    )
    await events.update_event(
        a.ctx,
        alice.actor_id,
        event_id,
        events.EventInput(
            title="Workshop composting (moved)",
            starts_at=SOON + timedelta(hours=1),
            place_name="Barn",
        ),
    )
    await pump(a, b)
    creates = [
        c
        for c in await _received(b, "Create")
        if isinstance(c["object"], dict) and c["object"]["type"] == "Event"
    ]
    assert [c["object"]["name"] for c in creates] == ["Workshop composting"]
    updates = [
        u
        for u in await _received(b, "Update")
        if isinstance(u["object"], dict) and u["object"].get("type") == "Event"
    ]
    assert updates and updates[-1]["object"]["location"]["name"] == "Barn"


async def test_local_member_rsvps_to_a_remote_event(make_instance) -> None:
    """bob on B is a member of A's community: its event reaches B, his RSVP is a Join (pending until
    the Accept), and leaving sends a Leave."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    from tests.federation.e2e_helpers import follow_remote

    await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    event_id = await events.create_event(
        a.ctx,
        alice.actor_id,
        garden.id,
        events.EventInput(
            title="Seed swap", starts_at=SOON, place_name="Library", join_mode="approval"
        ),
    )
    await pump(a, b)
    async with b.db.read() as conn:
        remote = (
            await conn.execute(
                sa.select(t.events).where(t.events.c.uri == f"{a.url}/c/garden/events/{event_id}")
            )
        ).one()
    assert (
        remote.title == "Seed swap"
        and remote.place_name == "Library"
        and remote.join_mode == "approval"
    )

    assert await events.rsvp(b.ctx, bob.actor_id, remote.id) == "pending"
    await pump(a, b)
    bob_on_a = await actor_on(a, f"{b.url}/users/bob")
    async with a.db.read() as conn:
        assert await events.state_of(conn, event_id, bob_on_a) == "pending"  # approval mode on A
    await events.decide(a.ctx, alice.actor_id, event_id, bob_on_a, True)
    await pump(a, b)
    async with b.db.read() as conn:
        assert await events.state_of(conn, remote.id, bob.actor_id) == "joined"
    page = await (await a.client.get(f"/c/garden/events/{event_id}")).text()
    assert f"@bob@{b.ctx.settings.domain}" in page

    await events.leave(b.ctx, bob.actor_id, remote.id)
    await pump(a, b)
    async with a.db.read() as conn:
        assert await events.state_of(conn, event_id, bob_on_a) is None


async def test_following_the_roadmap_collection_follows_its_public_items(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    zoe = await b.create_member("zoe")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    open_item = await roadmap.create_item(a.ctx, alice.actor_id, garden.id, title="Bee hotel")
    closed_item = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Budget", audience="community"
    )
    group_on_b = await remote_id(b, a, "/communities/garden")
    zoe_uri = f"{b.url}/users/zoe"
    await _send(
        b,
        zoe.actor_id,
        group_on_b,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zoe_uri}#follow-roadmap",
            "type": "Follow",
            "actor": zoe_uri,
            "object": f"{a.url}/communities/garden/roadmap",
        },
    )
    await pump(a, b)
    zoe_on_a = await actor_on(a, zoe_uri)
    async with a.db.read() as conn:
        assert (await roadmap_social.standing(conn, open_item, zoe_on_a)).following
        assert not (await roadmap_social.standing(conn, closed_item, zoe_on_a)).following
    await roadmap.change_status(a.ctx, alice.actor_id, open_item, "planned")
    await roadmap.change_status(a.ctx, alice.actor_id, closed_item, "planned")
    await pump(a, b)
    updated = {
        u["object"]["id"] for u in await _received(b, "Update") if isinstance(u["object"], dict)
    }
    assert f"{a.url}/c/garden/roadmap/{open_item}" in updated
    assert f"{a.url}/c/garden/roadmap/{closed_item}" not in updated
