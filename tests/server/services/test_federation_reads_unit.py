"""The reads and ids the ActivityPub side asks services for, without a server: the remote actors
a member reaches (partner hosts only when asked), the ids our Like and Follow keep, a member's
collections as a viewer sees them, and the Koers terms of a person's actor document."""

from __future__ import annotations

import sqlalchemy as sa

from server import clock
from server.services import (
    activity_ids,
    actor_collections,
    actor_terms,
    follows,
    posts,
    remote_audience,
)
from server.services.posts import Draft
from server.storage import schema as t
from server.visibility import ANONYMOUS, Audience


async def _remote_follows(ctx, follower_id: int, target_id: int) -> None:  # type: ignore[no-untyped-def]
    async with ctx.db.write() as conn:
        assert (
            await follows.receive_follow(
                conn, follower_id, await _actor(conn, target_id), "https://x.example/f/1"
            )
            == "accepted"
        )


async def _actor(conn, actor_id: int):  # type: ignore[no-untyped-def]
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()


async def test_remote_followers_and_partner_hosts(ctx, wired, member) -> None:
    rosa = await wired.remote_actor("rosa", "partner.example")
    tom = await wired.remote_actor("tom", "stranger.example")
    for remote in (rosa, tom):
        await _remote_follows(ctx, remote.id, member.actor_id)
    async with ctx.db.write() as conn:
        await conn.execute(
            t.partners.insert().values(domain="partner.example", created_at=clock.now())
        )
    async with ctx.db.read() as conn:
        everyone = await remote_audience.remote_followers(conn, member.actor_id)
        partners = await remote_audience.remote_followers(
            conn, member.actor_id, partner_hosts_only=True
        )
        assert await remote_audience.remote_followed(conn, member.actor_id) == []
    assert sorted(everyone) == sorted([rosa.id, tom.id]) and partners == [rosa.id]


async def test_our_like_and_follow_keep_their_ids(ctx, wired, member) -> None:
    rosa = await wired.remote_actor("rosa")
    async with ctx.db.write() as conn:
        res = await conn.execute(
            t.follows.insert().values(
                follower_id=member.actor_id,
                target_id=rosa.id,
                state="pending",
                created_at=clock.now(),
            )
        )
        follow_id = int(res.inserted_primary_key[0])
        first = await activity_ids.follow_id(conn, follow_id, "https://a.example/f/first")
        again = await activity_ids.follow_id(conn, follow_id, "https://a.example/f/second")
        assert first == again == "https://a.example/f/first"
        assert await activity_ids.activity_type_of(conn, first) == "Follow"
        # no favourite: a fresh id, kept nowhere
        assert await activity_ids.like_id(conn, member.actor_id, 1, "urn:x:1") == "urn:x:1"
        assert await activity_ids.like_id(conn, member.actor_id, 1, "urn:x:2") == "urn:x:2"


async def test_a_members_collections_as_anyone_sees_them(ctx, wired, member) -> None:
    rosa = await wired.remote_actor("rosa")
    await _remote_follows(ctx, rosa.id, member.actor_id)
    public = await posts.create_post(ctx, member.actor_id, Draft(source="for all"))
    await posts.create_post(
        ctx, member.actor_id, Draft(source="for followers", audience=Audience.FOLLOWERS)
    )
    await posts.create_post(ctx, member.actor_id, Draft(source="a reply", in_reply_to_id=public))
    async with ctx.db.read() as conn:
        total, uris = await actor_collections.followers(conn, member.actor_id, 0, 20)
        assert (total, uris) == (1, [rosa.uri])
        assert await actor_collections.followers(conn, member.actor_id, None, 20) == (1, [])
        total, entries = await actor_collections.outbox(
            conn, ANONYMOUS, 0, 20, author_id=member.actor_id
        )
        assert total == 2 and all(e.post.audience == "public" for e in entries)
        assert await actor_collections.replies_seen(conn, ANONYMOUS, public) == 1
        assert await actor_collections.pinned(conn, ANONYMOUS, member.actor_id) == []


async def test_a_persons_terms_keep_the_order_entered(ctx, member) -> None:
    async with ctx.db.write() as conn:
        for name in ("welding", "baking"):
            await conn.execute(
                t.competencies.insert().values(actor_id=member.actor_id, name=name, level=None)
            )
    async with ctx.db.read() as conn:
        terms = await actor_terms.person_terms(conn, member.actor_id)
        assert await actor_terms.group_terms(conn, member.actor_id) is None
    assert terms.competencies == [("welding", None), ("baking", None)] and terms.roles == []
