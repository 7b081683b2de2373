"""Roadmap item pages: Support / Follow buttons (one support per person), counts on the board, and
comments posted to the community linked to the item."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import communities, roadmap
from server.storage import schema as t
from tests.conftest import post_form


async def _count(instance, table):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def test_support_follow_and_comment(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    garden = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    item_id = await roadmap.create_item(instance.ctx, ana.actor_id, garden.id, title="Raised beds")
    url = f"/c/garden/roadmap/{item_id}"
    bob = await instance.login("bob")
    page = await (await bob.get(url)).text()
    assert "Support this item" in page and "0 supports" in page
    for _ in range(2):  # a second support by the same person changes nothing
        assert (await post_form(bob, url + "/support", {}, page=url)).status == 302
    ana_client = await instance.login("ana")
    assert (await post_form(ana_client, url + "/support", {}, page=url)).status == 302
    assert (await post_form(bob, url + "/follow", {}, page=url)).status == 302
    page = await (await bob.get(url)).text()
    assert (
        "2 supports" in page
        and "1 follower" in page
        and "Withdraw my support" in page
        and "Unfollow" in page
    )
    board = await (await instance.client.get("/c/garden/roadmap")).text()
    assert "2 supports" in board
    assert (await post_form(bob, url + "/unsupport", {}, page=url)).status == 302
    assert "1 support<" in await (await instance.client.get(url)).text()
    # anonymous visitors are sent to log in; nothing is written
    resp = await instance.client.post(url + "/support", allow_redirects=False)
    assert resp.status in (302, 401, 403)
    assert await _count(instance, t.roadmap_supports) == 1

    # comments: members only, linked to the item, shown on its page
    resp = await post_form(
        ana_client, url + "/comment", {"text": "Which wood do we use?"}, page=url
    )
    assert resp.status == 302
    page = await (await instance.client.get(url)).text()
    assert "Which wood do we use?" in page
    async with instance.db.read() as conn:
        linked = (
            await conn.execute(
                sa.select(t.posts.c.roadmap_item_id).where(t.posts.c.roadmap_item_id == item_id)
            )
        ).all()
    assert len(linked) == 1
    assert "Comment on this item" not in await (await bob.get(url)).text()  # bob is not a member
    resp = await post_form(bob, url + "/comment", {"text": "let me in"}, page=url)
    assert resp.status == 403
    resp = await post_form(ana_client, url + "/comment", {"text": ""}, page=url)
    assert resp.status == 302 and await _count(instance, t.posts) == 1


async def test_hidden_item_cannot_be_supported(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("eve")
    garden = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    item_id = await roadmap.create_item(
        instance.ctx, ana.actor_id, garden.id, title="Budget", audience="community"
    )
    eve = await instance.login("eve")
    resp = await post_form(eve, f"/c/garden/roadmap/{item_id}/support", {}, page="/c/garden")
    assert resp.status == 404
    assert await _count(instance, t.roadmap_supports) == 0


async def test_new_item_form_names_a_purpose_version(instance):
    ana = await instance.create_member("ana")
    await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    client = await instance.login("ana")
    form_page = await (await client.get("/c/garden/roadmap/new")).text()
    assert "Serves purpose version" in form_page and "Version 1" in form_page
    resp = await post_form(
        client,
        "/c/garden/roadmap/new",
        {"title": "Beds", "audience": "public", "status": "idea", "purpose_version": "1"},
        page="/c/garden/roadmap/new",
    )
    assert resp.status == 302
    assert "serves" in await (await client.get(resp.headers["Location"])).text()
    resp = await post_form(
        client,
        "/c/garden/roadmap/new",
        {"title": "Other", "audience": "public", "status": "idea", "purpose_version": "9"},
        page="/c/garden/roadmap/new",
    )
    assert resp.status == 422 and "no such version" in await resp.text()
    assert await _count(instance, t.roadmap_items) == 1
