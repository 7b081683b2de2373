"""Posting is one write unit: the post, its rows and the client's idempotency key together."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from server import clock
from server.services import idempotency, posts
from server.services.posts import Draft
from server.storage import schema as t


async def _posts(ctx: Any) -> int:
    async with ctx.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(t.posts))).scalar())


def _count_writes(ctx: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    write = ctx.db.write

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(args[0], "__name__", "async with") if args else "async with")
        return write(*args, **kwargs)

    monkeypatch.setattr(ctx.db, "write", counted)
    return seen


async def test_a_post_with_a_key_is_one_write_unit(ctx, member, monkeypatch) -> None:
    writes = _count_writes(ctx, monkeypatch)
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="once"), idempotency_key="k1")
    assert writes == ["_insert_post"]
    assert await idempotency.post_for_key(ctx, member.user_id, "k1") == pid


async def test_the_same_key_returns_the_first_post_until_it_is_deleted(
    ctx, member, make_member
) -> None:
    first = await posts.create_post(ctx, member.actor_id, Draft(source="a"), idempotency_key="k")
    again = await posts.create_post(ctx, member.actor_id, Draft(source="a"), idempotency_key="k")
    assert again == first and await _posts(ctx) == 1
    bo = await make_member("bo")
    theirs = await posts.create_post(ctx, bo.actor_id, Draft(source="a"), idempotency_key="k")
    assert theirs != first
    await posts.delete_post(ctx, member.actor_id, first)
    fresh = await posts.create_post(ctx, member.actor_id, Draft(source="a"), idempotency_key="k")
    assert fresh not in (first, theirs)
    assert await idempotency.post_for_key(ctx, member.user_id, "k") == fresh


async def test_a_key_is_not_recorded_when_the_post_is_refused(ctx, member) -> None:
    with pytest.raises(Exception, match="community"):
        await posts.create_post(
            ctx, member.actor_id, Draft(source="a", community_id=999), idempotency_key="k"
        )
    assert await idempotency.post_for_key(ctx, member.user_id, "k") is None
    assert await _posts(ctx) == 0


async def test_queuing_an_activity_again_adds_only_the_new_inboxes(ctx, member) -> None:
    from federation.delivery import enqueue

    doc = {"id": "https://koers.test/activities/1", "type": "Create"}
    first = ["https://a.example/inbox", "https://b.example/inbox"]
    async with ctx.db.write() as conn:
        one = await enqueue(conn, activity=doc, actor_id=member.actor_id, inboxes=first)
    async with ctx.db.write() as conn:
        again = await enqueue(
            conn,
            activity=doc,
            actor_id=member.actor_id,
            inboxes=["https://b.example/inbox", "https://c.example/inbox"],
        )
    assert one is not None and again == one
    async with ctx.db.read() as conn:
        inboxes = sorted(r.inbox for r in await conn.execute(sa.select(t.deliveries.c.inbox)))
        activities = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.activities))
        ).scalar()
    assert inboxes == [*first, "https://c.example/inbox"] and activities == 1


async def test_follower_inboxes_are_the_accepted_unsuspended_remote_followers(
    wired, member
) -> None:
    from federation.delivery import follower_inboxes, inboxes_for

    rosa = await wired.remote_actor("rosa")
    otto = await wired.remote_actor("otto")  # same host: one shared inbox
    pia = await wired.remote_actor("pia", host="other.example")
    sam = await wired.remote_actor("sam", host="third.example")
    ulf = await wired.remote_actor("ulf", host="fourth.example")
    now = clock.now()
    async with wired.ctx.db.write() as conn:
        for actor, state in ((rosa, "accepted"), (otto, "accepted"), (pia, "pending")):
            await conn.execute(
                t.follows.insert().values(
                    follower_id=actor.id, target_id=member.actor_id, state=state, created_at=now
                )
            )
        await conn.execute(
            t.follows.insert().values(
                follower_id=sam.id, target_id=member.actor_id, state="accepted", created_at=now
            )
        )
        await conn.execute(t.actors.update().where(t.actors.c.id == sam.id).values(suspended=True))
    async with wired.ctx.db.read() as conn:
        joined = await follower_inboxes(conn, member.actor_id, also=[ulf.id])
        listed = await inboxes_for(conn, [rosa.id, otto.id, ulf.id])
    assert joined == listed and len(joined) == 2
