"""Role terms on the web: a term when defining a role, the holding's end, renew and end it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.services import communities, role_terms, roles
from server.storage import schema as t
from tests.conftest import post_form


async def _setup(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    garden = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    await communities.join(instance.ctx, bob.actor_id, garden.id)
    return ana, bob, garden


async def _age_holdings(instance, days):
    async with instance.db.write() as conn:
        await conn.execute(
            t.role_holders.update().values(ends_at=clock.now() - timedelta(days=days))
        )


async def test_define_a_role_with_a_term_and_renew_it(instance):
    ana, bob, garden = await _setup(instance)
    manager = await instance.login("ana")
    new = "/c/garden/roles/new"
    resp = await post_form(
        manager, new, {"name": "Host", "fill_mode": "open", "term_days": "abc"}, page=new
    )
    assert resp.status == 422 and "a number of days from 1" in await resp.text()
    async with instance.db.read() as conn:
        assert await roles.roles_of(conn, garden.id) == []
    resp = await post_form(
        manager, new, {"name": "Host", "fill_mode": "open", "term_days": "90"}, page=new
    )
    assert resp.status == 302
    url = resp.headers["Location"]
    assert "Term: 90 days" in await (await instance.client.get(url)).text()
    holder = await instance.login("bob")
    assert (await post_form(holder, url + "/claim", {}, page=url)).status == 302
    page = await (await holder.get(url)).text()
    assert "term ends" in page and "up for reconsideration" not in page
    await _age_holdings(instance, 1)
    assert await role_terms.sweep_role_terms(instance.ctx) == 1
    page = await (await holder.get(url)).text()
    assert "up for reconsideration" in page and "Renew for 90 days" in page
    assert (
        "up for reconsideration" in (await (await instance.client.get("/c/garden")).text()).lower()
    )
    notes = await (await holder.get("/notifications")).text()
    assert "term has ended" in notes
    assert (
        await post_form(holder, url + "/renew", {}, page=url)
    ).status == 302  # the holder of an open role
    assert "up for reconsideration" not in await (await holder.get(url)).text()


async def test_managers_set_the_term_and_end_a_holding(instance):
    ana, bob, garden = await _setup(instance)
    role_id = await roles.create_role(
        instance.ctx, ana.actor_id, garden.id, name="Treasurer", fill_mode="assigned"
    )
    await roles.assign_role(instance.ctx, ana.actor_id, role_id, bob.actor_id)
    url = f"/c/garden/roles/{role_id}"
    manager = await instance.login("ana")
    holder = await instance.login("bob")
    # only managers: a holder's attempt is refused and changes nothing
    assert (await post_form(holder, url + "/term", {"term_days": "5"}, page=url)).status == 403
    resp = await post_form(manager, url + "/term", {"term_days": "0"}, page=url)
    assert resp.status == 422 and "aria-describedby" in await resp.text()
    async with instance.db.read() as conn:
        assert (await roles.get_role(conn, garden.id, role_id)).term_days is None
    assert (await post_form(manager, url + "/term", {"term_days": "365"}, page=url)).status == 302
    await _age_holdings(instance, 2)
    page = await (await manager.get(url)).text()
    assert "up for reconsideration" in page and "End the term" in page
    assert (
        "Renew for" not in await (await holder.get(url)).text()
    )  # assigned: not renewed by the holder
    assert (
        await post_form(holder, url + "/renew", {"actor_id": str(bob.actor_id)}, page=url)
    ).status == 403
    assert (
        await post_form(manager, url + "/unassign", {"actor_id": str(bob.actor_id)}, page=url)
    ).status == 302
    async with instance.db.read() as conn:
        rows = (await conn.execute(sa.select(sa.func.count()).select_from(t.role_holders))).scalar()
    assert rows == 0
