"""The roadmap and idea pages of a community hosted on another instance (/c/{handle}@{host}/roadmap
and /ideas), on both backends. The remote Group and its items are stored as the federation would
(``roadmap_sync.store_item``); the two-instance flow is tests/federation/test_remote_roadmap_e2e.py."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from server import clock
from server.activitypub.roadmap.sync import store_item
from server.errors import Forbidden
from server.services import roadmap
from server.storage import schema as t
from server.visibility import Viewer
from tests.conftest import post_form

HOST = "a.example:8080"
GROUP = f"http://{HOST}/communities/garden"
PAGE = f"/c/garden@{HOST}"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def item_doc(
    n: int, title: str, status: str, *, to: list[str] | None = None, supports: int = 0
) -> dict:
    """A roadmap item as a Koers Group publishes it."""
    return {
        "id": f"http://{HOST}/c/garden/roadmap/{n}",
        "type": "Article",
        "name": title,
        "content": f"<p>{title}</p>",
        "attributedTo": GROUP,
        "audience": GROUP,
        "to": to or [PUBLIC],
        "cc": [f"{GROUP}/followers"],
        "koers:status": status,
        "likes": {"type": "Collection", "totalItems": supports},
    }


async def remote_garden(instance) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The remote Group ``garden`` on a.example:8080 and our communities row: (group actor, community)."""
    now = clock.now()
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri=GROUP,
                url=f"http://{HOST}/c/garden",
                kind="group",
                username="garden",
                domain=HOST,
                display_name="Garden",
                inbox=f"{GROUP}/inbox",
                followers_url=f"{GROUP}/followers",
                created_at=now,
                updated_at=now,
                fetched_at=now,
            )
        )
        group_id = int(res.inserted_primary_key[0])
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=group_id, name="Garden", local=False, created_at=now
            )
        )
        return group_id, int(res.inserted_primary_key[0])


async def store(instance, group_id: int, doc: dict) -> int | None:  # type: ignore[no-untyped-def]
    async with instance.db.write() as conn:
        group = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == group_id))).one()
        return await store_item(conn, doc, group)


async def join(instance, actor_id: int, group_id: int) -> None:  # type: ignore[no-untyped-def]
    """An accepted membership, as after the Group's Accept."""
    async with instance.db.write() as conn:
        await conn.execute(
            t.follows.insert().values(
                follower_id=actor_id, target_id=group_id, state="accepted", created_at=clock.now()
            )
        )


async def sent(instance, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.activities.c.document).where(
                t.activities.c.direction == "out", t.activities.c.type == kind
            )
        )
        return [r[0] for r in rows]


def column(html: str, status: str) -> str:
    return (
        BeautifulSoup(html, "html.parser")
        .find("section", attrs={"aria-labelledby": f"col-{status}"})
        .get_text()
    )


async def test_remote_roadmap_columns_support_and_follow(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await remote_garden(instance)
    beds = await store(instance, group_id, item_doc(1, "Raised beds", "planned", supports=4))
    pump = await store(instance, group_id, item_doc(2, "Rain pump", "in_progress"))
    await store(instance, group_id, item_doc(3, "Members' rota", "idea", to=[GROUP]))
    bob = await instance.create_member("bob")

    anon = await instance.new_client()
    html = await (await anon.get(PAGE + "/roadmap")).text()
    assert "Raised beds" in column(html, "planned") and "Rain pump" in column(html, "in_progress")
    assert "4 supports" in column(html, "planned")
    assert "rota" not in html  # for the community's members only
    assert "<h1>" in html and f'href="{PAGE}/ideas"' in html  # the shared navigation

    client = await instance.login("bob")
    await join(instance, bob.actor_id, group_id)
    assert "Members&#39; rota" in await (await client.get(PAGE + "/roadmap")).text()
    res = await post_form(client, f"{PAGE}/roadmap/{beds}/support", {}, page=PAGE + "/roadmap")
    assert res.status == 302 and res.headers["Location"] == f"{PAGE}/roadmap#item-{beds}"
    res = await post_form(client, f"{PAGE}/roadmap/{pump}/follow", {}, page=PAGE + "/roadmap")
    assert res.status == 302
    html = await (await client.get(PAGE + "/roadmap")).text()
    assert "5 supports" in column(html, "planned") and "Withdraw my support" in column(
        html, "planned"
    )
    assert "Unfollow" in column(html, "in_progress")
    likes, follows = await sent(instance, "Like"), await sent(instance, "Follow")
    assert [d["object"] for d in likes] == [f"http://{HOST}/c/garden/roadmap/1"]
    assert [d["object"] for d in follows] == [f"http://{HOST}/c/garden/roadmap/2"]

    res = await post_form(client, f"{PAGE}/roadmap/{beds}/unsupport", {}, page=PAGE + "/roadmap")
    assert res.status == 302
    undone = await sent(instance, "Undo")
    assert [(d["object"]["type"], d["object"]["object"]) for d in undone] == [
        ("Like", f"http://{HOST}/c/garden/roadmap/1")
    ]
    assert "4 supports" in column(await (await client.get(PAGE + "/roadmap")).text(), "planned")

    # The Group reports a status change: the follower is notified, the page shows the new column.
    await store(instance, group_id, item_doc(2, "Rain pump", "done"))
    assert "Rain pump" in column(await (await client.get(PAGE + "/roadmap")).text(), "done")
    notes = await (await client.get("/notifications")).text()
    assert "“Rain pump” is now done" in notes and f'href="{PAGE}/roadmap#item-{pump}"' in notes

    # Nobody here adds to or moves a remote roadmap.
    with pytest.raises(Forbidden, match="kept on its own instance"):
        await roadmap.create_item(instance.ctx, bob.actor_id, community_id, title="Sneaky")
    async with instance.db.read() as conn:
        item = await roadmap.get_item(
            conn, Viewer(actor_id=bob.actor_id, local=True), community_id, pump
        )
        assert not await roadmap.may_change(conn, item, bob.actor_id)


async def test_remote_roadmap_refuses_bad_requests(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _ = await remote_garden(instance)
    hidden = await store(instance, group_id, item_doc(3, "Members' rota", "idea", to=[GROUP]))
    await instance.create_member("bob")
    client = await instance.login("bob")
    assert (await client.get(f"/c/nowhere@{HOST}/roadmap")).status == 404
    # An item bob may not see is a 404, and nothing is sent.
    res = await post_form(client, f"{PAGE}/roadmap/{hidden}/support", {}, page=PAGE + "/roadmap")
    assert res.status == 404 and await sent(instance, "Like") == []
    res = await post_form(client, f"{PAGE}/roadmap/999999/follow", {}, page=PAGE + "/roadmap")
    assert res.status == 404
    # Without a CSRF token nothing happens.
    res = await client.post(f"{PAGE}/roadmap/{hidden}/support", data={})
    assert res.status == 403


async def test_store_item_keeps_what_the_addressing_allows(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _ = await remote_garden(instance)
    assert await store(instance, group_id, item_doc(1, "Open", "planned")) is not None
    direct = item_doc(2, "Direct", "planned", to=[f"http://{HOST}/users/alice"])
    direct["cc"] = []
    del direct["audience"]
    assert await store(instance, group_id, direct) is None  # not understood: not kept
    foreign = {
        **item_doc(3, "Elsewhere", "planned"),
        "id": "http://evil.example/c/garden/roadmap/3",
    }
    assert await store(instance, group_id, foreign) is None  # an id not on the Group's host
    assert (
        await store(
            instance, group_id, {**item_doc(4, "Bad", "planned"), "koers:status": "sideways"}
        )
        is None
    )
    followers_only = item_doc(5, "Followers", "idea", to=[f"{GROUP}/followers"])
    followers_only["cc"] = []
    kept = await store(instance, group_id, followers_only)
    async with instance.db.read() as conn:
        audience = (
            await conn.execute(
                sa.select(t.roadmap_items.c.audience).where(t.roadmap_items.c.id == kept)
            )
        ).scalar()
    assert audience == "community"  # the Group's followers are its members


async def test_remote_idea_box_submit_and_support(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await remote_garden(instance)
    bob = await instance.create_member("bob")
    client = await instance.login("bob")
    html = await (await client.get(PAGE + "/ideas")).text()
    assert "Join the community" in html and "Send an idea" not in html
    # Not a member yet: refused with a message, nothing written.
    res = await post_form(
        client,
        PAGE + "/ideas",
        {"title": "Seed swap", "text": "", "audience": "public"},
        page=PAGE + "/ideas",
    )
    assert res.status == 403 and await sent(instance, "Create") == []

    await join(instance, bob.actor_id, group_id)
    res = await post_form(
        client,
        PAGE + "/ideas",
        {"title": "", "text": "", "audience": "public"},
        page=PAGE + "/ideas",
    )
    assert res.status == 422 and 'role="alert"' in await res.text()
    res = await post_form(
        client,
        PAGE + "/ideas",
        {"title": "Seed swap", "text": "Monthly", "audience": "public"},
        page=PAGE + "/ideas",
    )
    assert res.status == 302
    created = await sent(instance, "Create")
    assert (
        len(created) == 1
        and created[0]["object"]["koers:idea"] is True
        and created[0]["object"]["audience"] == GROUP
    )
    async with instance.db.read() as conn:
        inboxes = (await conn.execute(sa.select(t.deliveries.c.inbox))).scalars().all()
    assert f"{GROUP}/inbox" in inboxes  # on its way to the Group's idea box
    html = await (await client.get(PAGE + "/ideas")).text()
    assert "Seed swap" in html and "Open" in html
    async with instance.db.read() as conn:
        post_id = (
            await conn.execute(
                sa.select(t.ideas.c.post_id).where(t.ideas.c.community_id == community_id)
            )
        ).scalar_one()
    res = await post_form(client, f"{PAGE}/ideas/{post_id}/support", {}, page=PAGE + "/ideas")
    assert res.status == 302
    likes = await sent(instance, "Like")
    assert [(d["object"], d["to"]) for d in likes] == [(created[0]["object"]["id"], [GROUP])]
    assert "Withdraw support" in await (await client.get(PAGE + "/ideas")).text()
    assert (
        await post_form(client, f"{PAGE}/ideas/999999/support", {}, page=PAGE + "/ideas")
    ).status == 404


# Who sees a remote item, by its audience (from the addressing): the page and the Koers API agree.
AUDIENCE_ADDRESSING = {
    "public": ([PUBLIC], [f"{GROUP}/followers"]),
    "unlisted": ([f"{GROUP}/followers"], [PUBLIC]),
    "community": ([GROUP], []),
    "partners": ([f"http://{HOST}/partners"], []),
}
EXPECTED = {
    "public": {"anonymous", "local", "member"},
    "unlisted": {"anonymous", "local", "member"},
    "community": {"member"},
    "partners": {"local", "member"},
}


@pytest.mark.parametrize("audience", list(AUDIENCE_ADDRESSING))
async def test_remote_item_visibility_cells(instance, audience: str) -> None:  # type: ignore[no-untyped-def]
    from tests.api.conftest import api_token

    group_id, _ = await remote_garden(instance)
    to, cc = AUDIENCE_ADDRESSING[audience]
    doc = {**item_doc(1, "Tool library", "planned"), "to": to, "cc": cc}
    await store(instance, group_id, doc)
    async with instance.db.read() as conn:
        kept = (await conn.execute(sa.select(t.roadmap_items.c.audience))).scalar_one()
    assert kept == audience
    member = await instance.create_member("mia")
    await instance.create_member("lou")
    await join(instance, member.actor_id, group_id)
    clients = {
        "anonymous": await instance.new_client(),
        "local": await instance.login("lou"),
        "member": await instance.login("mia"),
    }
    for viewer, client in clients.items():
        page = "Tool library" in await (await client.get(PAGE + "/roadmap")).text()
        headers = (
            {
                "Authorization": f"Bearer {await api_token(instance, 'lou' if viewer == 'local' else 'mia')}"
            }
            if viewer != "anonymous"
            else {}
        )
        api = await (
            await instance.client.get(
                f"/api/koers/v1/remote_communities/garden@{HOST}/roadmap", headers=headers
            )
        ).json()
        expected = viewer in EXPECTED[audience]
        assert page is expected, f"{viewer} on the page, {audience} item"
        assert bool(api) is expected, f"{viewer} in the API, {audience} item"


async def test_accept_of_an_item_follow_leaves_the_membership_alone(instance) -> None:  # type: ignore[no-untyped-def]
    """The Group confirming a follow of one of its items is not an Accept of the member's join."""
    from federation.state import INBOX_HANDLERS

    group_id, _ = await remote_garden(instance)
    await store(instance, group_id, item_doc(1, "Raised beds", "planned"))
    bob = await instance.create_member("bob")
    async with instance.db.write() as conn:
        await conn.execute(
            t.follows.insert().values(
                follower_id=bob.actor_id,
                target_id=group_id,
                state="pending",
                uri=f"{instance.url}/users/bob#follows/1",
                created_at=clock.now(),
            )
        )
    accept = {
        "id": f"{GROUP}#accepts/roadmap/1",
        "type": "Accept",
        "actor": GROUP,
        "object": {
            "id": f"{instance.url}/users/bob#follows/roadmap/1/1",
            "type": "Follow",
            "actor": f"{instance.url}/users/bob",
            "object": f"http://{HOST}/c/garden/roadmap/1",
        },
    }
    await instance.app[INBOX_HANDLERS].get("Accept")(instance.app, accept, group_id)
    async with instance.db.read() as conn:
        state = (
            await conn.execute(
                sa.select(t.follows.c.state).where(t.follows.c.follower_id == bob.actor_id)
            )
        ).scalar()
    assert state == "pending"
