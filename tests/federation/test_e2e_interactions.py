"""Likes, boosts, poll votes and blocks across instances; the organisation's public feed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.services import communities, follows, posts, purpose
from server.storage import schema as t
from tests.federation.e2e_helpers import follow_remote, post_by_uri, pump

pytestmark = pytest.mark.slow


async def _one(inst, query):  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (await conn.execute(query)).scalar()


async def test_like_boost_vote_and_block(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    alice_on_b = await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)
    pid = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="Which day?",
            poll=posts.PollSpec(options=("Saturday", "Sunday"), expires_in=3600),
        ),
    )
    await pump(a, b)
    copy = await post_by_uri(b, f"{a.url}/users/alice/posts/{pid}")
    assert copy is not None
    poll_on_b = await _one(b, sa.select(t.polls.c.id).where(t.polls.c.post_id == copy.id))
    assert poll_on_b is not None

    await posts.favourite(b.ctx, bob.actor_id, copy.id)
    await posts.reblog(b.ctx, bob.actor_id, copy.id)
    await posts.vote(b.ctx, bob.actor_id, poll_on_b, [1])
    await pump(a, b)
    assert await _one(a, sa.select(t.posts.c.favourites_count).where(t.posts.c.id == pid)) == 1
    assert await _one(a, sa.select(t.posts.c.reblogs_count).where(t.posts.c.id == pid)) == 1
    poll_on_a = await _one(a, sa.select(t.polls.c.id).where(t.polls.c.post_id == pid))
    assert (
        await _one(a, sa.select(t.poll_votes.c.choice).where(t.poll_votes.c.poll_id == poll_on_a))
        == 1
    )
    async with a.db.read() as conn:
        kinds = {
            r[0]
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == alice.actor_id
                )
            )
        }
    assert {"favourite", "reblog"} <= kinds

    await posts.unfavourite(b.ctx, bob.actor_id, copy.id)
    await posts.unreblog(b.ctx, bob.actor_id, copy.id)
    await pump(a, b)
    assert await _one(a, sa.select(t.posts.c.favourites_count).where(t.posts.c.id == pid)) == 0
    assert await _one(a, sa.select(t.posts.c.reblogs_count).where(t.posts.c.id == pid)) == 0

    await follows.block(b.ctx, bob.actor_id, alice_on_b)
    await pump(a, b)
    bob_on_a = await _one(a, sa.select(t.actors.c.id).where(t.actors.c.uri == f"{b.url}/users/bob"))
    assert await _one(
        a,
        sa.select(t.blocks.c.id).where(
            t.blocks.c.actor_id == bob_on_a, t.blocks.c.target_id == alice.actor_id
        ),
    )


async def test_following_the_organisation_delivers_its_public_feed(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await follow_remote(b, a, bob.actor_id, "/actor")
    await pump(a, b)
    result = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="We harvested 30 kg",
            kind="result",
            title="Harvest",
            community_id=garden.id,
            audience=posts.Audience("public"),
        ),
    )
    private = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="members only", community_id=garden.id, audience=posts.Audience("community")
        ),
    )
    await pump(a, b)
    got = await post_by_uri(b, f"{a.url}/users/alice/posts/{result}")
    assert got is not None and got.kind == "result" and got.title == "Harvest"
    assert await post_by_uri(b, f"{a.url}/users/alice/posts/{private}") is None


async def test_following_the_organisation_brings_each_new_purpose_version(make_instance) -> None:
    """Outsiders follow the public purpose from their own accounts: the organisation boosts each version."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    org_on_b = await follow_remote(b, a, bob.actor_id, "/actor")
    await pump(a, b)
    await purpose.change_purpose(
        a.ctx, alice.actor_id, garden.id, "Grow food and share seeds", "Seeds matter"
    )
    await pump(a, b)
    version = await post_by_uri(b, f"{a.url}/c/garden/purpose/2")
    assert version is not None and "share seeds" in version.content_html
    async with b.db.read() as conn:
        boosted = (
            await conn.execute(
                sa.select(t.posts.c.id).where(
                    t.posts.c.author_id == org_on_b, t.posts.c.reblog_of_id == version.id
                )
            )
        ).first()
    assert (
        boosted is not None
    )  # the boost is on bob's home timeline, as any boost of a followed account
