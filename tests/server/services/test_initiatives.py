"""Initiatives: any member starts one and leads it; others join; visibility applies to every read."""

import pytest

from server.errors import Forbidden, ValidationError
from server.services import communities, initiatives, roadmap, roadmap_social
from server.visibility import ANONYMOUS, Viewer


async def _setup(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    cy = await instance.create_member("cy")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    for m in (bo, cy):
        await communities.join(instance.ctx, m.actor_id, c.id)
    return ana, bo, cy, c


async def test_a_member_starts_an_initiative_leads_it_and_others_join(instance):
    ana, bo, cy, c = await _setup(instance)
    item_id = await initiatives.start(
        instance.ctx, bo.actor_id, c.id, title="Seed swap", description="In May"
    )
    await roadmap_social.support(instance.ctx, cy.actor_id, item_id)
    async with instance.db.read() as conn:
        found = await initiatives.of_community(conn, ANONYMOUS, c.id)
        assert [(i.item.title, i.lead_username, i.participants) for i in found] == [
            ("Seed swap", "bo", 1)
        ]
        assert found[0].item.status == "idea"
        assert [p.username for p in await initiatives.participants(conn, item_id)] == ["cy"]
        item = await roadmap.get_item(conn, ANONYMOUS, c.id, item_id)
        assert (await initiatives.lead_of(conn, item)).username == "bo"
        assert await roadmap.may_change(conn, item, bo.actor_id)
        assert not await roadmap.may_change(conn, item, cy.actor_id)
    await roadmap.change_status(instance.ctx, bo.actor_id, item_id, "planned")
    with pytest.raises(Forbidden):
        await roadmap.change_status(instance.ctx, cy.actor_id, item_id, "done")
    # a plain roadmap item is not an initiative
    await roadmap.create_item(instance.ctx, ana.actor_id, c.id, title="Fence")
    async with instance.db.read() as conn:
        assert [i.item.title for i in await initiatives.of_community(conn, ANONYMOUS, c.id)] == [
            "Seed swap"
        ]


async def test_outsiders_cannot_start_and_hidden_initiatives_stay_hidden(instance):
    ana, bo, cy, c = await _setup(instance)
    dan = await instance.create_member("dan")
    with pytest.raises(Forbidden):
        await initiatives.start(instance.ctx, dan.actor_id, c.id, title="Not mine")
    with pytest.raises(ValidationError):
        await initiatives.start(instance.ctx, bo.actor_id, c.id, title="  ")
    await initiatives.start(
        instance.ctx, bo.actor_id, c.id, title="Members only", audience="community"
    )
    async with instance.db.read() as conn:
        assert await initiatives.of_community(conn, ANONYMOUS, c.id) == []
        assert (
            await initiatives.of_community(conn, Viewer(actor_id=dan.actor_id, local=True), c.id)
            == []
        )
        seen = await initiatives.of_community(conn, Viewer(actor_id=cy.actor_id, local=True), c.id)
    assert [i.item.title for i in seen] == ["Members only"]
