"""Initiative pages: start one (CSRF, errors write nothing), the lead on the item and community pages."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import communities
from server.storage import schema as t
from tests.conftest import post_form


async def _items(instance):
    async with instance.db.read() as conn:
        return (
            await conn.execute(sa.select(sa.func.count()).select_from(t.roadmap_items))
        ).scalar()


async def test_start_an_initiative_and_join_it(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    await instance.create_member("cy")
    garden = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    await communities.join(instance.ctx, bob.actor_id, garden.id)
    client = await instance.login("bob")
    new = "/c/garden/initiatives/new"
    page = await (await client.get(new)).text()
    assert "Start an initiative in Garden" in page and 'name="_csrf"' in page
    # bad input: re-rendered with the error, nothing written; no CSRF token: refused
    resp = await post_form(client, new, {"title": "  ", "audience": "public"}, page=new)
    assert resp.status == 422 and "aria-describedby" in await resp.text()
    resp = await client.post(new, data={"title": "Seed swap"}, allow_redirects=False)
    assert resp.status in (400, 403)
    resp = await post_form(client, new, {"title": "Seed swap", "audience": "everyone"}, page=new)
    assert resp.status == 422
    assert await _items(instance) == 0
    resp = await post_form(
        client,
        new,
        {"title": "Seed swap", "description": "Bring seeds", "audience": "public"},
        page=new,
    )
    assert resp.status == 302
    item_url = resp.headers["Location"]
    page = await (await instance.client.get(item_url)).text()
    assert "An initiative started by" in page and "informal lead" in page and "bob" in page
    cy = await instance.login("cy")
    page = await (await cy.get(item_url)).text()
    assert "Join this initiative" in page
    assert (await post_form(cy, item_url + "/support", {}, page=item_url)).status == 302
    page = await (await instance.client.get(item_url)).text()
    assert "Taking part:" in page and "cy" in page
    community = await (await instance.client.get("/c/garden")).text()
    assert "Initiatives" in community and "Seed swap" in community and "led by bob" in community
    assert "1 taking part" in community
    # the lead may change the status like an owner
    page = await (await client.get(item_url)).text()
    assert "Change the status" in page


async def test_outsiders_and_anonymous_cannot_start(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("dan")
    await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="x"
    )
    new = "/c/garden/initiatives/new"
    resp = await instance.client.get(new, allow_redirects=False)
    assert resp.status in (302, 303)
    dan = await instance.login("dan")
    resp = await post_form(dan, new, {"title": "Mine", "audience": "public"}, page=new)
    assert resp.status == 403
    assert await _items(instance) == 0
    assert "Start an initiative" not in await (await dan.get("/c/garden")).text()
