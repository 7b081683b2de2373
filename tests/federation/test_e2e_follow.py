"""Following people across two real instances, with and without approval; unfollow."""

from __future__ import annotations

import pytest

from server.services import follows, posts
from server.services.accounts import update_profile
from tests.federation.e2e_helpers import actor_on, follow_remote, follow_state, post_by_uri, pump

pytestmark = pytest.mark.slow


async def test_follow_without_approval_then_posts_arrive_and_unfollow(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    alice_on_b = await follow_remote(b, a, bob.actor_id, "/users/alice")
    assert await follow_state(b, bob.actor_id, alice_on_b) == "pending"
    await pump(a, b)
    assert await follow_state(b, bob.actor_id, alice_on_b) == "accepted"
    bob_on_a = await actor_on(a, b.url + "/users/bob")
    assert bob_on_a is not None and await follow_state(a, bob_on_a, alice.actor_id) == "accepted"

    post_id = await posts.create_post(
        a.ctx, alice.actor_id, posts.Draft(source="Hello #koers world")
    )
    await pump(a, b)
    remote = await post_by_uri(b, f"{a.url}/users/alice/posts/{post_id}")
    assert remote is not None and remote.audience == "public" and "Hello" in remote.content_html

    await follows.unfollow(b.ctx, bob.actor_id, alice_on_b)
    await pump(a, b)
    assert await follow_state(a, bob_on_a, alice.actor_id) is None
    second = await posts.create_post(
        a.ctx, alice.actor_id, posts.Draft(source="after", audience=None)
    )
    await pump(a, b)
    assert await post_by_uri(b, f"{a.url}/users/alice/posts/{second}") is None


async def test_follow_with_approval(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    await update_profile(a.db, alice.user_id, locked=True)
    bob = await b.create_member("bob")
    alice_on_b = await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)
    bob_on_a = await actor_on(a, b.url + "/users/bob")
    assert await follow_state(a, bob_on_a, alice.actor_id) == "pending"
    assert await follow_state(b, bob.actor_id, alice_on_b) == "pending"
    await follows.accept_follow(a.ctx, alice.actor_id, bob_on_a, alice.actor_id)
    await pump(a, b)
    assert await follow_state(b, bob.actor_id, alice_on_b) == "accepted"


async def test_profile_change_reaches_remote_followers(make_instance) -> None:
    import sqlalchemy as sa

    from server.storage import schema as t

    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    alice_on_b = await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)
    await update_profile(a.db, alice.user_id, display_name="Alice Gardener", events=a.ctx.events)
    await pump(a, b)
    async with b.db.read() as conn:
        name = (
            await conn.execute(
                sa.select(t.actors.c.display_name).where(t.actors.c.id == alice_on_b)
            )
        ).scalar()
    assert name == "Alice Gardener"
