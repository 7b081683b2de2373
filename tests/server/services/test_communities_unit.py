"""Communities without a server: starting one, joining open, approval and invite-only ones,
managers, leaving, and who sees the member list."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import communities, federation_admin, purpose
from server.storage import schema as t
from server.visibility import ANONYMOUS, Viewer
from tests.conftest import UNIT_URL
from tests.fast import notifications_of


async def _notes(db, actor_id):  # type: ignore[no-untyped-def]
    return [r.type for r in await notifications_of(db, actor_id)]


async def _state(ctx, community, actor_id):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return await communities.membership(conn, community, actor_id)


async def _make(ctx, founder, **kw):  # type: ignore[no-untyped-def]
    return await communities.create_community(
        ctx, founder.actor_id, handle="garden", name="Garden", purpose_text="Grow food", **kw
    )


def _v(person) -> Viewer:  # type: ignore[no-untyped-def]
    return Viewer(actor_id=person.actor_id, local=True)


async def test_a_new_community_has_a_group_actor_purpose_and_its_founder_as_manager(
    ctx, member
) -> None:
    c = await _make(ctx, member, description="We **dig**")
    assert (c.handle, c.name, c.openness) == ("garden", "Garden", "open")
    assert c.uri == f"{UNIT_URL}/communities/garden"
    assert "<strong>dig</strong>" in c.description_html
    async with ctx.db.read() as conn:
        group = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == c.actor_id))).one()
        assert group.kind == "group" and group.domain is None
        assert await communities.is_manager(conn, c.id, member.actor_id)
        assert await communities.membership(conn, c, member.actor_id) == "accepted"
        version = await purpose.current(conn, c.id)
        assert version is not None and version.version == 1 and version.text_source == "Grow food"
        assert [x.handle for x in await communities.communities_of(conn, member.actor_id)] == [
            "garden"
        ]
        assert (await communities.get_by_handle(conn, "garden")).id == c.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"handle": "bad handle"}, "handle"),
        ({"handle": "admin"}, "handle"),
        ({"name": "  "}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"openness": "secret"}, "openness"),
        ({"member_list_visibility": "nobody"}, "member_list_visibility"),
        ({"purpose_text": " "}, "purpose"),
    ],
)
async def test_invalid_communities_are_refused(ctx, member, fields, field) -> None:
    values = {"handle": "garden", "name": "Garden", "purpose_text": "Grow food", **fields}
    with pytest.raises(ValidationError) as err:
        await communities.create_community(ctx, member.actor_id, **values)
    assert err.value.field == field
    async with ctx.db.read() as conn:
        assert await communities.list_local(conn) == []


async def test_handles_are_shared_with_people_and_remote_actors_cannot_found(
    ctx, member, remote_actor
) -> None:
    with pytest.raises(Conflict):
        await communities.create_community(
            ctx, member.actor_id, handle="ana", name="Ana's", purpose_text="x"
        )
    await _make(ctx, member)
    with pytest.raises(Conflict):
        await _make(ctx, member)
    with pytest.raises(Forbidden):
        await communities.create_community(
            ctx, remote_actor.id, handle="other", name="Other", purpose_text="x"
        )


async def test_joining_an_open_community_is_immediate(ctx, member, make_member) -> None:
    c = await _make(ctx, member)
    bo = await make_member("bo")
    assert await communities.join(ctx, bo.actor_id, c.id) == "accepted"
    async with ctx.db.read() as conn:
        assert await communities.member_counts(conn, [c.id]) == {c.id: 2}


async def test_an_approval_community_asks_its_managers(ctx, member, make_member) -> None:
    c = await _make(ctx, member, openness="approval")
    bo, cy = await make_member("bo"), await make_member("cy")
    assert await communities.join(ctx, bo.actor_id, c.id) == "pending"
    assert await _notes(ctx.db, member.actor_id) == ["koers.join_request"]
    async with ctx.db.read() as conn:
        assert [p.username for p in await communities.join_requests(conn, ctx, c)] == ["bo"]
    with pytest.raises(Forbidden):
        await communities.approve_join(ctx, cy.actor_id, c.id, bo.actor_id)
    await communities.approve_join(ctx, member.actor_id, c.id, bo.actor_id)
    assert await _state(ctx, c, bo.actor_id) == "accepted"
    assert await _notes(ctx.db, bo.actor_id) == ["koers.join_approved"]


async def test_declining_a_request_never_removes_a_member(ctx, member, make_member) -> None:
    c = await _make(ctx, member, openness="approval")
    bo, cy = await make_member("bo"), await make_member("cy")
    await communities.join(ctx, bo.actor_id, c.id)
    await communities.join(ctx, cy.actor_id, c.id)
    await communities.approve_join(ctx, member.actor_id, c.id, cy.actor_id)
    await communities.reject_join(ctx, member.actor_id, c.id, bo.actor_id)
    assert await _state(ctx, c, bo.actor_id) is None
    with pytest.raises(NotFound):
        await communities.reject_join(ctx, member.actor_id, c.id, cy.actor_id)
    assert await _state(ctx, c, cy.actor_id) == "accepted"
    with pytest.raises(Forbidden):
        await communities.reject_join(ctx, cy.actor_id, c.id, member.actor_id)


async def test_an_invite_only_community_grows_by_its_managers(ctx, member, make_member) -> None:
    c = await _make(ctx, member, openness="invite")
    bo = await make_member("bo")
    with pytest.raises(Forbidden, match="invitation"):
        await communities.join(ctx, bo.actor_id, c.id)
    assert await communities.add_member(ctx, member.actor_id, c.id, "@Bo") == bo.actor_id
    assert await _state(ctx, c, bo.actor_id) == "accepted"
    assert await _notes(ctx.db, bo.actor_id) == ["koers.member_added"]
    with pytest.raises(Conflict):
        await communities.add_member(ctx, member.actor_id, c.id, "bo")
    with pytest.raises(ValidationError):
        await communities.add_member(ctx, member.actor_id, c.id, "nobody")
    with pytest.raises(Forbidden):
        await communities.add_member(ctx, bo.actor_id, c.id, "ana")


async def test_adding_someone_who_asked_accepts_the_request(ctx, member, make_member) -> None:
    c = await _make(ctx, member, openness="approval")
    bo = await make_member("bo")
    await communities.join(ctx, bo.actor_id, c.id)
    await communities.add_member(ctx, member.actor_id, c.id, "bo")
    assert await _state(ctx, c, bo.actor_id) == "accepted"
    async with ctx.db.read() as conn:
        count = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.follows)
                .where(t.follows.c.follower_id == bo.actor_id)
            )
        ).scalar_one()
    assert count == 1


async def test_managers_are_members_and_the_last_one_stays(ctx, member, make_member) -> None:
    c = await _make(ctx, member)
    bo, cy = await make_member("bo"), await make_member("cy")
    await communities.join(ctx, bo.actor_id, c.id)
    with pytest.raises(ValidationError, match="only members"):
        await communities.add_manager(ctx, member.actor_id, c.id, cy.actor_id)
    await communities.add_manager(ctx, member.actor_id, c.id, bo.actor_id)
    await communities.add_manager(ctx, member.actor_id, c.id, bo.actor_id)  # once
    async with ctx.db.read() as conn:
        assert [m.username for m in await communities.managers(conn, ctx, c.id)] == ["ana", "bo"]
    await communities.remove_manager(ctx, bo.actor_id, c.id, member.actor_id)
    with pytest.raises(Forbidden, match="at least one"):
        await communities.remove_manager(ctx, bo.actor_id, c.id, bo.actor_id)
    with pytest.raises(NotFound):
        await communities.remove_manager(ctx, bo.actor_id, c.id, cy.actor_id)
    with pytest.raises(Forbidden):
        await communities.leave(ctx, bo.actor_id, c.id)
    await communities.leave(ctx, member.actor_id, c.id)
    assert await _state(ctx, c, member.actor_id) is None


async def test_remote_managers_must_come_from_a_partner(ctx, member, remote_actor) -> None:
    c = await _make(ctx, member)
    async with ctx.db.write() as conn:
        await conn.execute(
            t.follows.insert().values(
                follower_id=remote_actor.id,
                target_id=c.actor_id,
                state="accepted",
                created_at=c.created_at,
            )
        )
    with pytest.raises(ValidationError, match="partner"):
        await communities.add_manager(ctx, member.actor_id, c.id, remote_actor.id)
    await federation_admin.add_partner(ctx.db, "remote.example", "Remote")
    await communities.add_manager(ctx, member.actor_id, c.id, remote_actor.id)
    async with ctx.db.read() as conn:
        assert await communities.is_manager(conn, c.id, remote_actor.id)


@pytest.mark.parametrize(
    ("visibility", "anonymous", "outsider", "insider"),
    [
        ("public", True, True, True),
        ("instance", False, True, True),
        ("members", False, False, True),
    ],
)
async def test_who_sees_the_member_list(
    ctx, member, make_member, visibility, anonymous, outsider, insider
) -> None:
    c = await _make(ctx, member, member_list_visibility=visibility)
    bo = await make_member("bo")
    for viewer, allowed in ((ANONYMOUS, anonymous), (_v(bo), outsider), (_v(member), insider)):
        async with ctx.db.read() as conn:
            if allowed:
                assert [m.username for m in await communities.members(conn, ctx, viewer, c)] == [
                    "ana"
                ]
            else:
                with pytest.raises(Forbidden):
                    await communities.members(conn, ctx, viewer, c)
