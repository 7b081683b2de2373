"""A community with members on three instances: posts via the Group's Announce, roles, ideas,
replies, edits and deletes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.services import communities, follows, posts, purpose, roles
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from server.visibility import can_see_post
from tests.federation.e2e_helpers import follow_remote, post_by_uri, pump

pytestmark = pytest.mark.slow


async def _can_see(inst, actor_id: int, post_id: int) -> bool:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return await can_see_post(conn, await viewer_for_actor(conn, actor_id), post_id)


async def _community_on(inst, group_id: int) -> int:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group_id)
            )
        ).scalar_one()


async def test_cross_instance_community(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    c = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    bea = await b.create_member("bea")
    carol = await c.create_member("carol")
    await c.create_member("cid")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    group_on_c = await follow_remote(c, a, carol.actor_id, "/communities/garden")
    await pump(a, b, c)

    # A member on A posts to the community: members on B and C get it through the Group's Announce.
    pid = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="Seeds arrive Monday",
            audience=posts.Audience("community"),
            community_id=garden.id,
        ),
    )
    await pump(a, b, c)
    uri = f"{a.url}/users/alice/posts/{pid}"
    on_b, on_c = await post_by_uri(b, uri), await post_by_uri(c, uri)
    assert on_b is not None and on_b.audience == "community" and on_c is not None
    assert await _can_see(b, bob.actor_id, on_b.id) and not await _can_see(b, bea.actor_id, on_b.id)
    assert await _can_see(c, carol.actor_id, on_c.id)

    # A member on B posts to the (remote) community: A keeps it, and C receives it via A's Group.
    bob_pid = await posts.create_post(
        b.ctx,
        bob.actor_id,
        posts.Draft(
            source="I can bring a spade",
            audience=posts.Audience("community"),
            community_id=await _community_on(b, group_on_b),
        ),
    )
    await pump(a, b, c)
    bob_uri = f"{b.url}/users/bob/posts/{bob_pid}"
    on_a = await post_by_uri(a, bob_uri)
    assert on_a is not None and on_a.audience == "community" and on_a.community_id == garden.id
    assert await _can_see(a, alice.actor_id, on_a.id)
    # A public post of the community from B reaches members on C through A's Group too.
    open_pid = await posts.create_post(
        b.ctx,
        bob.actor_id,
        posts.Draft(
            source="Open day on Saturday",
            audience=posts.Audience("public"),
            community_id=await _community_on(b, group_on_b),
        ),
    )
    await pump(a, b, c)
    relayed = await post_by_uri(c, f"{b.url}/users/bob/posts/{open_pid}")
    assert relayed is not None and relayed.community_id == await _community_on(c, group_on_c)
    assert await _can_see(c, carol.actor_id, relayed.id)

    # Role assignment on A is visible on B.
    role_id = await roles.create_role(
        a.ctx, alice.actor_id, garden.id, name="Seed keeper", fill_mode="assigned"
    )
    bob_on_a = (await post_by_uri(a, bob_uri)).author_id
    await roles.assign_role(a.ctx, alice.actor_id, role_id, bob_on_a)
    await pump(a, b, c)
    async with b.db.read() as conn:
        held = (
            await conn.execute(
                sa.select(t.roles.c.name, t.role_holders.c.state)
                .join(t.role_holders, t.role_holders.c.role_id == t.roles.c.id)
                .where(t.role_holders.c.actor_id == bob.actor_id)
            )
        ).all()
    assert [tuple(r) for r in held] == [("Seed keeper", "held")]

    # A new purpose version reaches the members on B as an Update from the Group.
    await purpose.change_purpose(
        a.ctx, alice.actor_id, garden.id, "Grow food and share it", "sharing matters"
    )
    await pump(a, b, c)
    version = await post_by_uri(b, f"{a.url}/c/garden/purpose/2")
    assert version is not None and "share it" in version.content_html
    assert version.community_id == await _community_on(b, group_on_b)

    # Edits and deletes of the community post propagate through the Group.
    await posts.edit_post(a.ctx, alice.actor_id, pid, source="Seeds arrive Tuesday")
    await pump(a, b, c)
    assert "Tuesday" in (await post_by_uri(b, uri)).content_html
    async with b.db.read() as conn:
        history = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.post_edits)
                .where(t.post_edits.c.post_id == on_b.id)
            )
        ).scalar_one()
    assert history == 2
    await posts.delete_post(a.ctx, alice.actor_id, pid)
    await pump(a, b, c)
    gone = await post_by_uri(b, uri)
    assert gone.deleted_at is not None and gone.content_html == ""
    assert (await post_by_uri(c, uri)).deleted_at is not None


async def test_remote_reply_threads_and_outsider_becomes_an_idea(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    alice_on_b = await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)
    pid = await posts.create_post(
        a.ctx, alice.actor_id, posts.Draft(source="What should we plant?")
    )
    await pump(a, b)
    copy = await post_by_uri(b, f"{a.url}/users/alice/posts/{pid}")
    reply = await posts.create_post(
        b.ctx, bob.actor_id, posts.Draft(source="Beans!", in_reply_to_id=copy.id)
    )
    await pump(a, b)
    on_a = await post_by_uri(a, f"{b.url}/users/bob/posts/{reply}")
    assert on_a is not None and on_a.in_reply_to_id == pid
    async with a.db.read() as conn:
        count = (
            await conn.execute(sa.select(t.posts.c.replies_count).where(t.posts.c.id == pid))
        ).scalar_one()
        notes = (
            await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == alice.actor_id
                )
            )
        ).all()
    assert count == 1 and ("mention",) in notes

    # Bob is not a member of the garden; mentioning it makes his post an idea there.
    assert alice_on_b
    group_on_b = await follow_remote(
        b, a, bob.actor_id, "/communities/garden"
    )  # resolves the Group on B...
    await pump(a, b)
    await follows.unfollow(b.ctx, bob.actor_id, group_on_b)  # ...and leaves again: an outsider
    await pump(a, b)
    idea = await posts.create_post(
        b.ctx,
        bob.actor_id,
        posts.Draft(source=f"@garden@{a.settings.domain} how about a herb spiral?"),
    )
    await pump(a, b)
    stored = await post_by_uri(a, f"{b.url}/users/bob/posts/{idea}")
    assert (
        stored is not None and stored.community_id == garden.id and stored.extra.get("idea") is True
    )
    async with a.db.read() as conn:
        types = [
            r[0]
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == alice.actor_id
                )
            )
        ]
    assert "koers.idea" in types


async def test_joining_an_approval_community_from_another_instance(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    circle = await communities.create_community(
        a.ctx,
        alice.actor_id,
        handle="circle",
        name="Circle",
        purpose_text="Decide together",
        openness="approval",
    )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/circle")
    await pump(a, b)
    bob_on_a = await _actor_id(a, f"{b.url}/users/bob")
    async with a.db.read() as conn:
        state = (
            await conn.execute(
                sa.select(t.follows.c.state).where(t.follows.c.follower_id == bob_on_a)
            )
        ).scalar()
        asks = (
            await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == alice.actor_id
                )
            )
        ).all()
    assert state == "pending" and ("koers.join_request",) in asks
    await communities.approve_join(a.ctx, alice.actor_id, circle.id, bob_on_a)
    await pump(a, b)
    async with b.db.read() as conn:
        state = (
            await conn.execute(
                sa.select(t.follows.c.state).where(
                    t.follows.c.follower_id == bob.actor_id, t.follows.c.target_id == group_on_b
                )
            )
        ).scalar()
    assert state == "accepted"


async def _actor_id(inst, uri: str) -> int:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == uri))
        ).scalar_one()
