"""The visibility policy against a real database, without a server: for each audience, which
viewer may see a post, which listing shows it, and what blocks and deletion change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.services import communities, federation_admin, follows, posts, timelines
from server.services.posts import Draft
from server.visibility import (
    ANONYMOUS,
    Audience,
    Viewer,
    can_boost,
    can_see_post,
    listed_for,
    posts_visible_to,
)

A = Audience
VIEWERS = (
    "anonymous",
    "author",
    "follower",
    "cmember",
    "stranger",
    "mentioned",
    "partner",
    "remote",
    "rmentioned",
)
# Who may see a post of each audience (DESIGN, "Visibility: one policy, everywhere").
EXPECTED: dict[Audience, set[str]] = {
    A.PUBLIC: set(VIEWERS),
    A.UNLISTED: set(VIEWERS),
    A.FOLLOWERS: {"author", "follower", "mentioned", "rmentioned"},
    A.COMMUNITY: {"author", "cmember", "mentioned", "rmentioned"},
    A.MEMBERS: {"author", "follower", "cmember", "stranger", "mentioned"},
    A.PARTNERS: {"author", "follower", "cmember", "stranger", "mentioned", "partner", "rmentioned"},
    A.DIRECT: {"author", "mentioned", "rmentioned"},
}


@dataclass
class World:
    viewers: dict[str, Viewer]
    community_id: int
    author_id: int


@pytest.fixture
async def world(ctx, wired, make_member) -> World:  # type: ignore[no-untyped-def]
    ana, bo, cy, dan, eve = [await make_member(n) for n in ("ana", "bo", "cy", "dan", "eve")]
    partner = await wired.remote_actor("pia", "partner.example")
    stranger = await wired.remote_actor("sam")
    mentioned = await wired.remote_actor("rob")
    await federation_admin.add_partner(ctx.db, "partner.example")
    garden = await communities.create_community(
        ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    await communities.join(ctx, cy.actor_id, garden.id)
    await follows.follow(ctx, bo.actor_id, ana.actor_id)

    def local(person) -> Viewer:  # type: ignore[no-untyped-def]
        return Viewer(actor_id=person.actor_id, local=True)

    def remote(actor, domain: str) -> Viewer:  # type: ignore[no-untyped-def]
        return Viewer(actor_id=actor.id, domain=domain)

    viewers = {
        "anonymous": ANONYMOUS,
        "author": local(ana),
        "follower": local(bo),
        "cmember": local(cy),
        "stranger": local(dan),
        "mentioned": local(eve),
        "partner": remote(partner, "partner.example"),
        "remote": remote(stranger, "remote.example"),
        "rmentioned": remote(mentioned, "remote.example"),
    }
    return World(viewers, garden.id, ana.actor_id)


async def _post(ctx, world, audience, **kw):  # type: ignore[no-untyped-def]
    community = world.community_id if audience is A.COMMUNITY else None
    return await posts.create_post(
        ctx,
        world.author_id,
        Draft(
            source="hello @eve and @rob@remote.example",
            audience=audience,
            community_id=community,
            **kw,
        ),
    )


@pytest.mark.parametrize("audience", list(EXPECTED))
async def test_each_audience_reaches_exactly_its_viewers(ctx, world, audience) -> None:
    pid = await _post(ctx, world, audience)
    async with ctx.db.read() as conn:
        seen = {name for name, v in world.viewers.items() if await can_see_post(conn, v, pid)}
    assert seen == EXPECTED[audience]


@pytest.mark.parametrize("audience", list(EXPECTED))
async def test_listings_show_what_is_visible_and_not_unlisted(ctx, world, audience) -> None:
    import sqlalchemy as sa

    from server.storage import schema as t

    pid = await _post(ctx, world, audience)
    async with ctx.db.read() as conn:
        for name, viewer in world.viewers.items():
            listed = (
                (await conn.execute(sa.select(t.posts.c.id).where(listed_for(viewer))))
                .scalars()
                .all()
            )
            visible = (
                (await conn.execute(sa.select(t.posts.c.id).where(posts_visible_to(viewer))))
                .scalars()
                .all()
            )
            assert (pid in visible) is (name in EXPECTED[audience]), name
            assert (pid in listed) is (name in EXPECTED[audience] and audience is not A.UNLISTED)


@pytest.mark.parametrize("audience", list(EXPECTED))
async def test_the_public_timeline_has_public_posts_only(ctx, world, audience) -> None:
    pid = await _post(ctx, world, audience)
    async with ctx.db.read() as conn:
        for viewer in world.viewers.values():
            ids = await timelines.public(conn, viewer, timelines.Page())
            assert (pid in ids) is (audience is A.PUBLIC and await can_see_post(conn, viewer, pid))


async def test_a_block_hides_even_public_posts_from_the_blocked(ctx, world) -> None:
    pid = await _post(ctx, world, A.PUBLIC)
    dan = world.viewers["stranger"]
    await follows.block(ctx, world.author_id, dan.actor_id)
    async with ctx.db.read() as conn:
        assert not await can_see_post(conn, dan, pid)
        assert await can_see_post(conn, world.viewers["cmember"], pid)


async def test_deleted_posts_are_seen_by_nobody(ctx, world) -> None:
    pid = await _post(ctx, world, A.PUBLIC)
    await posts.delete_post(ctx, world.author_id, pid)
    async with ctx.db.read() as conn:
        for viewer in world.viewers.values():
            assert not await can_see_post(conn, viewer, pid)


async def test_a_member_of_the_community_loses_community_posts_on_leaving(ctx, world) -> None:
    pid = await _post(ctx, world, A.COMMUNITY)
    cy = world.viewers["cmember"]
    async with ctx.db.read() as conn:
        assert await can_see_post(conn, cy, pid)
    await communities.leave(ctx, cy.actor_id, world.community_id)
    async with ctx.db.read() as conn:
        assert not await can_see_post(conn, cy, pid)


async def test_a_follower_loses_followers_posts_on_unfollowing(ctx, world) -> None:
    pid = await _post(ctx, world, A.FOLLOWERS)
    bo = world.viewers["follower"]
    await follows.unfollow(ctx, bo.actor_id, world.author_id)
    async with ctx.db.read() as conn:
        assert not await can_see_post(conn, bo, pid)


async def test_a_partnership_ending_closes_partners_posts(ctx, world) -> None:
    pid = await _post(ctx, world, A.PARTNERS)
    partner = world.viewers["partner"]
    await federation_admin.remove_partner(ctx.db, "partner.example")
    async with ctx.db.read() as conn:
        assert not await can_see_post(conn, partner, pid)


def test_boosting_and_audience_properties() -> None:
    assert [a.value for a in A if can_boost(a)] == ["public", "unlisted"]
    assert [a.value for a in A if a.listed] == ["public"]
    assert [a.value for a in A if not a.federates] == ["members"]
    assert A.parse("direct") is A.DIRECT
    with pytest.raises(ValueError, match="unknown audience"):
        A.parse("private")
