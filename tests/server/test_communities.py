"""Communities of purpose as services: membership rules, purpose history, roles and the roadmap."""

import pytest
import sqlalchemy as sa

from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import communities, purpose, roadmap, roles
from server.storage import schema as t
from server.visibility import ANONYMOUS, Viewer


async def _community(instance, creator, **kw):
    defaults = dict(handle="garden", name="Community garden", purpose_text="Grow food together.")
    defaults.update(kw)
    return await communities.create_community(instance.ctx, creator.actor_id, **defaults)


def _viewer(account):
    return Viewer(actor_id=account.actor_id, local=True)


async def test_create_community_makes_creator_member_and_manager(instance):
    ana = await instance.create_member("ana")
    c = await _community(instance, ana, description="We meet on *Saturdays*.")
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, ana.actor_id) == "accepted"
        assert await communities.is_manager(conn, c.id, ana.actor_id)
        current = await purpose.current(conn, c.id)
        group = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == c.actor_id))).first()
    assert current.version == 1 and "Grow food together." in current.text_html
    assert group.kind == "group" and group.username == "garden"
    assert "<em>Saturdays</em>" in c.description_html


async def test_handle_shares_namespace_with_usernames_and_is_validated(instance):
    ana = await instance.create_member("ana")
    with pytest.raises(Conflict):
        await _community(instance, ana, handle="ana")
    with pytest.raises(ValidationError) as err:
        await _community(instance, ana, handle="Not a handle!")
    assert err.value.field == "handle"
    with pytest.raises(ValidationError):
        await _community(instance, ana, purpose_text="   ")
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.communities))
        ).scalar() == 0


async def test_approval_community_join_waits_for_a_manager(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    eve = await instance.create_member("eve")
    c = await _community(instance, ana, openness="approval")
    assert await communities.join(instance.ctx, bob.actor_id, c.id) == "pending"
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, bob.actor_id) == "pending"
        assert [a.username for a in await communities.join_requests(conn, instance.ctx, c)] == [
            "bob"
        ]
    with pytest.raises(Forbidden):
        await communities.approve_join(instance.ctx, eve.actor_id, c.id, bob.actor_id)
    await communities.approve_join(instance.ctx, ana.actor_id, c.id, bob.actor_id)
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, bob.actor_id) == "accepted"


async def test_invite_only_refuses_plain_join_but_manager_can_add(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _community(instance, ana, openness="invite")
    with pytest.raises(Forbidden):
        await communities.join(instance.ctx, bob.actor_id, c.id)
    with pytest.raises(Forbidden):
        await communities.add_member(instance.ctx, bob.actor_id, c.id, "bob")
    await communities.add_member(instance.ctx, ana.actor_id, c.id, "@bob")
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, bob.actor_id) == "accepted"


async def test_leave_and_last_manager_rule(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _community(instance, ana)
    await communities.join(instance.ctx, bob.actor_id, c.id)
    with pytest.raises(Forbidden):
        await communities.leave(instance.ctx, ana.actor_id, c.id)
    with pytest.raises(Forbidden):
        await communities.remove_manager(instance.ctx, ana.actor_id, c.id, ana.actor_id)
    with pytest.raises(Forbidden):
        await communities.add_manager(instance.ctx, bob.actor_id, c.id, bob.actor_id)
    await communities.add_manager(instance.ctx, ana.actor_id, c.id, bob.actor_id)
    await communities.leave(instance.ctx, ana.actor_id, c.id)
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, ana.actor_id) is None
        assert [m.username for m in await communities.managers(conn, instance.ctx, c.id)] == ["bob"]


async def test_member_list_visibility(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _community(instance, ana, member_list_visibility="members")
    async with instance.db.read() as conn:
        assert [
            m.username for m in await communities.members(conn, instance.ctx, _viewer(ana), c)
        ] == ["ana"]
        for who in (ANONYMOUS, _viewer(bob)):
            with pytest.raises(Forbidden):
                await communities.members(conn, instance.ctx, who, c)


async def test_purpose_history_keeps_every_version(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _community(instance, ana)
    await communities.join(instance.ctx, bob.actor_id, c.id)
    with pytest.raises(Forbidden):
        await purpose.change_purpose(instance.ctx, bob.actor_id, c.id, "Take over", "because")
    with pytest.raises(ValidationError):
        await purpose.change_purpose(instance.ctx, ana.actor_id, c.id, "New text", "")
    assert (
        await purpose.change_purpose(
            instance.ctx, ana.actor_id, c.id, "Grow food and share it.", "we share"
        )
        == 2
    )
    async with instance.db.read() as conn:
        versions = await purpose.history(conn, c.id)
        note = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == bob.actor_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].reason == "we share" and versions[0].author_username == "ana"
    assert "Grow food together." in versions[1].text_html
    assert "koers.endorse_requested" in note


async def test_role_claim_release_assign_rules(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    out = await instance.create_member("out")
    c = await _community(instance, ana)
    await communities.join(instance.ctx, bob.actor_id, c.id)
    seen = []
    instance.ctx.events.after_commit("role.assigned", lambda e: _record(seen, e))
    instance.ctx.events.after_commit("role.released", lambda e: _record(seen, e))
    open_role = await roles.create_role(
        instance.ctx,
        ana.actor_id,
        c.id,
        name="Host",
        competencies=[("hosting", "practised")],
        fill_mode="open",
    )
    approval = await roles.create_role(
        instance.ctx, ana.actor_id, c.id, name="Treasurer", fill_mode="approval"
    )
    assigned = await roles.create_role(
        instance.ctx, ana.actor_id, c.id, name="Lead", fill_mode="assigned"
    )
    with pytest.raises(Forbidden):
        await roles.create_role(instance.ctx, bob.actor_id, c.id, name="Boss")
    with pytest.raises(Forbidden):
        await roles.claim_role(instance.ctx, out.actor_id, open_role)

    assert await roles.claim_role(instance.ctx, bob.actor_id, open_role) == "held"
    assert await roles.claim_role(instance.ctx, bob.actor_id, approval) == "requested"
    with pytest.raises(Forbidden):
        await roles.claim_role(instance.ctx, bob.actor_id, assigned)
    with pytest.raises(Forbidden):
        await roles.assign_role(instance.ctx, bob.actor_id, assigned, bob.actor_id)
    await roles.assign_role(instance.ctx, ana.actor_id, approval, bob.actor_id)
    await roles.assign_role(instance.ctx, ana.actor_id, assigned, bob.actor_id)
    with pytest.raises(ValidationError):
        await roles.assign_role(instance.ctx, ana.actor_id, assigned, out.actor_id)
    await roles.release_role(instance.ctx, bob.actor_id, open_role)
    await roles.unassign_role(instance.ctx, ana.actor_id, assigned, bob.actor_id)

    async with instance.db.read() as conn:
        host = await roles.get_role(conn, c.id, open_role)
        treasurer = await roles.get_role(conn, c.id, approval)
        types = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == bob.actor_id
                    )
                )
            )
            .scalars()
            .all()
        )
        with pytest.raises(NotFound):
            await roles.get_role(conn, c.id + 1, open_role)
    assert host.vacant and host.competencies == [("hosting", "practised")]
    assert [h.username for h in treasurer.holders] == ["bob"]
    assert types.count("koers.role_assigned") == 2
    assert [(e.kind, e.data["role_id"]) for e in seen] == [
        ("role.assigned", open_role),
        ("role.assigned", approval),
        ("role.assigned", assigned),
        ("role.released", open_role),
        ("role.released", assigned),
    ]


async def _record(seen, event):
    seen.append(event)


async def test_matching_members_by_competency(instance):
    from server.services import accounts

    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    await accounts.set_competencies(instance.db, bob.actor_id, [("hosting", "expert")])
    c = await _community(instance, ana)
    await communities.join(instance.ctx, bob.actor_id, c.id)
    role_id = await roles.create_role(
        instance.ctx, ana.actor_id, c.id, name="Host", competencies=[("hosting", None)]
    )
    async with instance.db.read() as conn:
        role = await roles.get_role(conn, c.id, role_id)
        assert [m.username for m in await roles.matching_members(conn, role)] == ["bob"]


async def test_roadmap_status_change_recorded_and_visibility(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _community(instance, ana)
    public = await roadmap.create_item(
        instance.ctx, ana.actor_id, c.id, title="Raised beds", status="planned"
    )
    inner = await roadmap.create_item(
        instance.ctx, ana.actor_id, c.id, title="Budget", audience="community"
    )
    with pytest.raises(ValidationError):
        await roadmap.create_item(instance.ctx, ana.actor_id, c.id, title="x", audience="direct")
    with pytest.raises(Forbidden):
        await roadmap.create_item(instance.ctx, bob.actor_id, c.id, title="Not a member")
    await communities.join(instance.ctx, bob.actor_id, c.id)
    with pytest.raises(Forbidden):
        await roadmap.change_status(instance.ctx, bob.actor_id, public, "done")
    await roadmap.change_status(instance.ctx, ana.actor_id, public, "in_progress", "spades bought")
    async with instance.db.read() as conn:
        changes = await roadmap.history(conn, public)
        anon_items = await roadmap.items(conn, ANONYMOUS, c.id)
        member_items = await roadmap.items(conn, _viewer(bob), c.id)
        recent = await roadmap.recent_changes(conn, ANONYMOUS, c.id)
        with pytest.raises(NotFound):
            await roadmap.get_item(conn, ANONYMOUS, c.id, inner)
    assert [(ch.from_status, ch.to_status, ch.note) for ch in changes] == [
        (None, "planned", ""),
        ("planned", "in_progress", "spades bought"),
    ]
    assert [i.title for i in anon_items] == ["Raised beds"]
    assert {i.title for i in member_items} == {"Raised beds", "Budget"}
    assert all(ch.item_title == "Raised beds" for ch in recent)
