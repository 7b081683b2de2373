"""Role terms: holdings end after the role's term, the sweep announces them once, renew and end."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import clock
from server.errors import Forbidden, ValidationError
from server.services import communities, role_terms, roles
from server.storage import schema as t


async def _setup(instance, fill_mode="open", term_days=30):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    await communities.join(instance.ctx, bo.actor_id, c.id)
    role_id = await roles.create_role(
        instance.ctx, ana.actor_id, c.id, name="Host", fill_mode=fill_mode, term_days=term_days
    )
    return ana, bo, c, role_id


async def _notes(instance, actor_id):
    async with instance.db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == actor_id,
                    t.notifications.c.type == "koers.role_term_ended",
                )
            )
        )


async def test_a_holding_ends_after_the_term_and_is_announced_once(instance):
    ana, bo, c, role_id = await _setup(instance)
    await roles.claim_role(instance.ctx, bo.actor_id, role_id)
    async with instance.db.read() as conn:
        role = await roles.get_role(conn, c.id, role_id)
        assert role.term_days == 30
        ends = clock.aware(role.holders[0].ends_at)
        assert timedelta(days=29) < ends - clock.now() <= timedelta(days=30)
        assert await role_terms.up_for_reconsideration(conn, c.id) == []
    assert await role_terms.sweep_role_terms(instance.ctx, clock.now() + timedelta(days=29)) == 0
    later = clock.now() + timedelta(days=31)
    assert await role_terms.sweep_role_terms(instance.ctx, later) == 1
    assert (
        await role_terms.sweep_role_terms(instance.ctx, later + timedelta(days=1)) == 0
    )  # only once
    assert (
        len(await _notes(instance, bo.actor_id)) == 1
        and len(await _notes(instance, ana.actor_id)) == 1
    )
    async with instance.db.read() as conn:
        up = await role_terms.up_for_reconsideration(conn, c.id, later)
    assert [(u.role_name, u.username) for u in up] == [("Host", "bo")]


async def test_renew_starts_a_new_term_and_allows_a_new_announcement(instance):
    ana, bo, c, role_id = await _setup(instance)
    await roles.claim_role(instance.ctx, bo.actor_id, role_id)
    await role_terms.sweep_role_terms(instance.ctx, clock.now() + timedelta(days=31))
    ends = await role_terms.renew(
        instance.ctx, bo.actor_id, role_id, bo.actor_id
    )  # holder of an open role
    assert ends > clock.now() + timedelta(days=29)
    async with instance.db.read() as conn:
        assert (
            await role_terms.up_for_reconsideration(conn, c.id, clock.now() + timedelta(days=1))
            == []
        )
    assert await role_terms.sweep_role_terms(instance.ctx, clock.now() + timedelta(days=61)) == 1


async def test_only_managers_renew_roles_that_are_not_open_and_end_them(instance):
    ana, bo, c, role_id = await _setup(instance, fill_mode="assigned", term_days=7)
    await roles.assign_role(instance.ctx, ana.actor_id, role_id, bo.actor_id)
    with pytest.raises(Forbidden):
        await role_terms.renew(instance.ctx, bo.actor_id, role_id, bo.actor_id)
    await role_terms.renew(instance.ctx, ana.actor_id, role_id, bo.actor_id)
    await roles.unassign_role(instance.ctx, ana.actor_id, role_id, bo.actor_id)  # ending the term
    async with instance.db.read() as conn:
        assert (await roles.get_role(conn, c.id, role_id)).holders == []


async def test_set_term_validates_and_clears(instance):
    ana, bo, c, role_id = await _setup(instance, term_days=None)
    await roles.claim_role(instance.ctx, bo.actor_id, role_id)
    for bad in ("0", "-3", "abc", "99999", True, "٣"):
        with pytest.raises(ValidationError):
            await role_terms.set_term(instance.ctx, ana.actor_id, role_id, bad)
    with pytest.raises(Forbidden):
        await role_terms.set_term(instance.ctx, bo.actor_id, role_id, 10)
    with pytest.raises(ValidationError):  # no term yet: nothing to renew
        await role_terms.renew(instance.ctx, ana.actor_id, role_id, bo.actor_id)
    assert await role_terms.set_term(instance.ctx, ana.actor_id, role_id, "10") == 10
    async with instance.db.read() as conn:
        role = await roles.get_role(conn, c.id, role_id)
    assert role.term_days == 10 and role.holders[0].ends_at is not None
    assert await role_terms.set_term(instance.ctx, ana.actor_id, role_id, None) is None
    async with instance.db.read() as conn:
        role = await roles.get_role(conn, c.id, role_id)
    assert role.term_days is None and role.holders[0].ends_at is None
    with pytest.raises(ValidationError):
        await roles.create_role(instance.ctx, ana.actor_id, c.id, name="Other", term_days=0)


async def test_the_background_sweeper_announces_due_terms(instance):
    import asyncio

    ana, bo, c, role_id = await _setup(instance)
    await roles.claim_role(instance.ctx, bo.actor_id, role_id)
    async with instance.db.write() as conn:
        await conn.execute(
            t.role_holders.update().values(ends_at=clock.now() - timedelta(minutes=1))
        )
    task = role_terms.start_sweeper(instance.ctx, every=0.05)
    try:
        for _ in range(100):
            if await _notes(instance, bo.actor_id):
                break
            await asyncio.sleep(0.05)
    finally:
        await role_terms.stop_sweeper(task)
    assert task.cancelled() and len(await _notes(instance, bo.actor_id)) == 1
    assert (
        instance.settings.run_workers is True
    )  # the app's own sweeper runs beside it (terms are told once)
