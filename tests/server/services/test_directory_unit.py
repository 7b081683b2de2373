"""The member directory and the organisation feed in the fast layer: who is listed, every filter,
the member-list visibility of community and role filters, paging, and what the feed shows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server import clock
from server.errors import ValidationError
from server.services import accounts, directory, moderation, posts, roles, timelines
from server.services.directory import DirectoryQuery
from server.services.posts import Draft
from server.services.timelines import Page
from server.storage import schema as t
from server.visibility import ANONYMOUS, Audience, Viewer


def _me(account) -> Viewer:  # type: ignore[no-untyped-def]
    return Viewer(actor_id=account.actor_id, local=True)


async def _names(ctx, viewer, **query) -> list[str]:  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        rows, _more = await directory.find(conn, viewer, DirectoryQuery(**query))
    return [r.username for r in rows]


async def test_who_is_listed(ctx, crew, remote_actor) -> None:
    assert await _names(ctx, ANONYMOUS) == ["ana", "bo", "cy", "dan"]
    await accounts.update_profile(ctx.db, crew.cy.user_id, discoverable=False)
    await moderation.suspend(ctx, moderation.CLI, "dan")
    assert await _names(ctx, ANONYMOUS) == ["ana", "bo"]
    # rosa is known but on no partner's server: listed only when asked for everyone known
    async with ctx.db.write() as conn:  # (her actor document says she may be listed)
        await conn.execute(
            t.actors.update().where(t.actors.c.id == remote_actor.id).values(discoverable=True)
        )
    assert await _names(ctx, ANONYMOUS, organisation="all") == ["ana", "bo", "rosa"]
    async with ctx.db.write() as conn:
        await conn.execute(
            t.partners.insert().values(
                domain="remote.example", name="Remote", state="active", created_at=clock.now()
            )
        )
    assert await _names(ctx, ANONYMOUS) == ["ana", "bo", "rosa"]
    assert await _names(ctx, ANONYMOUS, organisation="remote.example") == ["rosa"]
    assert await _names(ctx, ANONYMOUS, organisation="here") == ["ana", "bo"]
    assert await _names(ctx, ANONYMOUS, organisation="elsewhere.example") == []


async def test_name_and_competency_filters(ctx, crew) -> None:
    await accounts.update_profile(ctx.db, crew.bo.user_id, display_name="Bo Gardener")
    await accounts.set_competencies(ctx.db, crew.ana.actor_id, [("pruning", "learning")])
    await accounts.set_competencies(ctx.db, crew.bo.actor_id, [("pruning", "expert")])
    await accounts.set_competencies(ctx.db, crew.cy.actor_id, [("python", None)])
    assert await _names(ctx, ANONYMOUS, name="garden") == ["bo"]
    assert await _names(ctx, ANONYMOUS, name="%") == []
    assert await _names(ctx, ANONYMOUS, competency="pru") == ["bo", "ana"]  # experts first
    assert await _names(ctx, ANONYMOUS, competency="p", level="practised") == ["bo"]
    async with ctx.db.read() as conn:
        rows, _ = await directory.find(conn, ANONYMOUS, DirectoryQuery(competency="pyt"))
    assert [(r.username, r.competency, r.level) for r in rows] == [("cy", "python", None)]
    with pytest.raises(ValidationError):
        await _names(ctx, ANONYMOUS, level="guru")


async def test_community_and_role_filters_follow_the_member_list_visibility(ctx, crew) -> None:
    cid = crew.community.id
    assert await _names(ctx, ANONYMOUS, community_id=cid) == ["ana", "bo", "cy"]
    role_id = await roles.create_role(ctx, crew.ana.actor_id, cid, name="Treasurer")
    await roles.assign_role(ctx, crew.ana.actor_id, role_id, crew.bo.actor_id)
    assert await _names(ctx, ANONYMOUS, role_id=role_id) == ["bo"]
    async with ctx.db.write() as conn:
        await conn.execute(
            t.communities.update()
            .where(t.communities.c.id == cid)
            .values(member_list_visibility="members")
        )
    for query in ({"community_id": cid}, {"role_id": role_id}):
        assert await _names(ctx, ANONYMOUS, **query) == []
        assert await _names(ctx, _me(crew.dan), **query) == []
        assert await _names(ctx, _me(crew.cy), **query) != []
    async with ctx.db.read() as conn:
        offered = await directory.choices(conn, _me(crew.dan))
    assert offered.communities == [] and offered.roles == []


async def test_pages(ctx, make_member, monkeypatch) -> None:
    monkeypatch.setattr(directory, "PAGE", 2)
    for name in ("ann", "bob", "cat", "dee", "eve"):
        await make_member(name)
    async with ctx.db.read() as conn:
        first, more = await directory.find(conn, ANONYMOUS, DirectoryQuery())
        last, more_after = await directory.find(conn, ANONYMOUS, DirectoryQuery(page=3))
    assert [r.username for r in first] == ["ann", "bob"] and more
    assert [r.username for r in last] == ["eve"] and not more_after
    with pytest.raises(ValidationError):
        await _names(ctx, ANONYMOUS, page=0)


async def test_the_organisation_feed_shows_what_the_viewer_may_see(ctx, crew, remote_actor) -> None:
    ana, bo, dan = crew.ana, crew.bo, crew.dan
    del remote_actor
    public = await posts.create_post(ctx, ana.actor_id, Draft(source="open"))
    members = await posts.create_post(
        ctx, ana.actor_id, Draft(source="inside", audience=Audience.MEMBERS)
    )
    community = await posts.create_post(
        ctx,
        bo.actor_id,
        Draft(source="garden only", audience=Audience.COMMUNITY, community_id=crew.community.id),
    )
    unlisted = await posts.create_post(
        ctx, ana.actor_id, Draft(source="quiet", audience=Audience.UNLISTED)
    )
    await posts.create_post(ctx, dan.actor_id, Draft(source="just me", audience=Audience.DIRECT))

    async def feed(viewer: Viewer) -> list[int]:
        async with ctx.db.read() as conn:
            return await timelines.organisation(conn, viewer, Page(limit=20))

    assert await feed(ANONYMOUS) == [public]
    assert await feed(_me(dan)) == [members, public]
    assert await feed(_me(crew.cy)) == [community, members, public]
    assert unlisted not in await feed(_me(ana))
    async with ctx.db.read() as conn:
        remote_posts = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(t.posts).where(t.posts.c.local.is_(False))
            )
        ).scalar_one()
    assert remote_posts == 0
