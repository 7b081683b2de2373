"""A's open roadmap and idea box, seen and taken part in from a partner instance B: B's member joins
A's community and B's roadmap page shows A's items (synced); B's member supports one item (A counts
it) and follows another (A's status change is notified on B and shown on B's page); a remote account
that followed the whole roadmap collection receives an item created later and its status Update;
B's member sends an idea from B's page, A's managers put it on the roadmap, and B's member hears of
it (notifications page and Mastodon API) and finds the item on B's roadmap page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from federation.delivery import enqueue, inboxes_for
from server.activitypub.core import convert
from server.services import communities, idea_outcomes, ideas, roadmap, roadmap_social
from server.storage import schema as t
from server.visibility import Viewer
from tests.api.conftest import api_token
from tests.conftest import post_form
from tests.federation.e2e_helpers import actor_on, pump, remote_id

pytestmark = pytest.mark.slow


def _column(html: str, status: str) -> str:
    """The text of one status column of a roadmap page."""
    return (
        BeautifulSoup(html, "html.parser")
        .find("section", attrs={"aria-labelledby": f"col-{status}"})
        .get_text()
    )


async def _item_on(inst, uri: str):  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(sa.select(t.roadmap_items).where(t.roadmap_items.c.uri == uri))
        ).first()


async def _uri(inst, item_id: int) -> str:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.roadmap_items.c.uri).where(t.roadmap_items.c.id == item_id)
            )
        ).scalar_one()


async def test_partner_member_follows_supports_and_feeds_a_remote_roadmap(make_instance) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob_account = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    beds = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Raised beds", status="planned"
    )
    pump_item = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Rain water pump", status="in_progress"
    )
    await roadmap.create_item(a.ctx, alice.actor_id, garden.id, title="Old shed", status="done")
    await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Members' rota", status="idea", audience="community"
    )
    await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Staff parking", status="idea", audience="members"
    )

    bob = await b.login("bob")
    page = f"/c/garden@{a.settings.domain}"
    await remote_id(b, a, "/communities/garden")
    assert (await post_form(bob, page + "/join", {}, page=page)).status == 302
    await pump(a, b)

    # Synced after the join: every item a member may see, in its column; never A's members-only one.
    html = await (await bob.get(page + "/roadmap")).text()
    for title in ("Raised beds", "Rain water pump", "Old shed", "Members&#39; rota"):
        assert title in html
    assert "Staff parking" not in html
    assert "Raised beds" in _column(html, "planned") and "Old shed" in _column(html, "done")
    beds_b = await _item_on(b, await _uri(a, beds))
    pump_b = await _item_on(b, await _uri(a, pump_item))
    assert (beds_b.status, pump_b.status) == ("planned", "in_progress")
    # The members-only-for-the-community item stays hidden from a visitor on B.
    assert (
        "Members&#39; rota"
        not in await (await (await b.new_client()).get(page + "/roadmap")).text()
    )

    # Support one, follow another, from B's page.
    assert (
        await post_form(bob, f"{page}/roadmap/{beds_b.id}/support", {}, page=page + "/roadmap")
    ).status == 302
    assert (
        await post_form(bob, f"{page}/roadmap/{pump_b.id}/follow", {}, page=page + "/roadmap")
    ).status == 302
    assert "1 support" in await (await bob.get(page + "/roadmap")).text()
    await pump(a, b)
    async with a.db.read() as conn:
        assert (
            await roadmap_social.standing(conn, beds, None)
        ).supports == 1  # A counts B's support
        assert (await roadmap_social.standing(conn, pump_item, None)).followers == 1

    # A changes the followed item's status: bob is notified on B, B's page shows it done.
    await roadmap.change_status(a.ctx, alice.actor_id, pump_item, "done", "Pump installed")
    await pump(a, b)
    assert (await _item_on(b, await _uri(a, pump_item))).status == "done"
    async with b.db.read() as conn:
        kinds = (
            await conn.execute(
                sa.select(t.notifications.c.type, t.notifications.c.extra).where(
                    t.notifications.c.actor_id == bob_account.actor_id
                )
            )
        ).all()
    assert [(e["item_id"], e["status"]) for k, e in kinds if k == "koers.roadmap_status"] == [
        (pump_b.id, "done")
    ]
    notes = await (await bob.get("/notifications")).text()
    assert "changed a roadmap item" in notes and "“Rain water pump” is now done" in notes
    assert f'href="{page}/roadmap#item-{pump_b.id}"' in notes
    assert "Rain water pump" in _column(await (await bob.get(page + "/roadmap")).text(), "done")

    # B's member sends an idea from B's page; A's managers put it on the roadmap; bob hears of it.
    res = await post_form(
        bob,
        page + "/ideas",
        {"title": "Seed swap table", "text": "Once a month", "audience": "public"},
        page=page + "/ideas",
    )
    assert res.status == 302
    await pump(a, b)
    async with a.db.read() as conn:
        box = await ideas.list_ideas(conn, Viewer(actor_id=alice.actor_id, local=True), garden.id)
    assert [i.title for i in box] == ["Seed swap table"]
    new_item = await idea_outcomes.promote_to_roadmap(a.ctx, alice.actor_id, box[0].id)
    await pump(a, b)
    html = await (await bob.get(page + "/roadmap")).text()
    assert "Seed swap table" in html
    ideas_html = await (await bob.get(page + "/ideas")).text()
    assert "Taken up" in ideas_html and "on the roadmap" in ideas_html
    notes = await (await bob.get("/notifications")).text()
    assert "now on the roadmap" in notes
    token = await api_token(b, "bob")
    api = await b.new_client()
    listed = await (
        await api.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert any(
        n["type"] == "mention" and "now on the roadmap" in n["status"]["content"] for n in listed
    )
    assert (await _item_on(b, await _uri(a, new_item))) is not None

    # Another idea from B is declined at A: B's idea page shows it, and bob is told.
    res = await post_form(
        bob,
        page + "/ideas",
        {"title": "Golf course", "text": "", "audience": "public"},
        page=page + "/ideas",
    )
    await pump(a, b)
    async with a.db.read() as conn:
        golf = [
            i
            for i in await ideas.list_ideas(conn, Viewer(), garden.id, status="open")
            if i.title == "Golf course"
        ]
    await idea_outcomes.decline(a.ctx, alice.actor_id, golf[0].id)
    await pump(a, b)
    async with b.db.read() as conn:
        states = dict((await conn.execute(sa.select(t.ideas.c.title, t.ideas.c.status))).all())
    assert states == {"Seed swap table": "promoted", "Golf course": "declined"}
    assert "will not take it up" in await (await bob.get("/notifications")).text()


async def test_following_the_roadmap_collection_covers_items_created_later(make_instance) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    carol = await b.create_member("carol")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Compost bins", status="planned"
    )
    # carol (not a member) follows the whole roadmap collection of the garden from B.
    group_on_b = await remote_id(b, a, "/communities/garden")
    async with b.db.write() as conn:
        carol_uri = (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == carol.actor_id))
        ).scalar_one()
        doc = convert.activity(
            b.ctx.base,
            "Follow",
            id=f"{carol_uri}#follows/roadmap",
            actor=carol_uri,
            object=f"{a.url}/communities/garden/roadmap",
        )
        await enqueue(
            conn,
            activity=doc,
            actor_id=carol.actor_id,
            inboxes=await inboxes_for(conn, [group_on_b]),
        )
    await pump(a, b)
    carol_on_a = await actor_on(a, carol_uri)
    async with a.db.read() as conn:
        subscribed = (
            (await conn.execute(sa.select(t.roadmap_subscriptions.c.actor_id))).scalars().all()
        )
    assert subscribed == [carol_on_a]

    # A new public item after the follow reaches carol's instance, and so does its status Update.
    later = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Bee hotel", status="idea"
    )
    await pump(a, b)
    uri = await _uri(a, later)
    assert (await _item_on(b, uri)).status == "idea"
    await roadmap.change_status(a.ctx, alice.actor_id, later, "planned")
    await pump(a, b)
    assert (await _item_on(b, uri)).status == "planned"
    async with a.db.read() as conn:
        assert carol_on_a in await roadmap_social.remote_audience(conn, later)
    # carol stops following the roadmap: the next new item no longer reaches her instance.
    async with b.db.write() as conn:
        undo = convert.undo(
            b.ctx.base, activity_id=f"{carol_uri}#follows/roadmap/undo", actor=carol_uri, inner=doc
        )
        await enqueue(
            conn,
            activity=undo,
            actor_id=carol.actor_id,
            inboxes=await inboxes_for(conn, [group_on_b]),
        )
    await pump(a, b)
    async with a.db.read() as conn:
        assert (
            await conn.execute(sa.select(t.roadmap_subscriptions.c.actor_id))
        ).scalars().all() == []
    unheard = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Pond", status="idea"
    )
    await pump(a, b)
    assert await _item_on(b, await _uri(a, unheard)) is None
    # A members-only item never leaves A.
    hidden = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Staff parking", audience="members"
    )
    await pump(a, b)
    assert await _item_on(b, await _uri(a, hidden)) is None
