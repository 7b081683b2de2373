"""Storage promises, on SQLite and PostgreSQL: a request that fails halfway writes nothing, and
requests writing at the same time all succeed."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from server.errors import Forbidden
from server.events import Event
from server.services import communities, follows, posts
from server.storage import schema as t
from tests.conftest import PASSWORD, post_form


async def count(instance, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    async with instance.db.read() as conn:
        return int(
            (
                await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))
            ).scalar_one()
        )


class Boom(RuntimeError):
    """What a failing listener raises (a federation outbox that cannot write its row, say)."""


async def test_failure_inside_the_write_rolls_back_the_insert(instance) -> None:
    """A post whose in-transaction listener fails leaves no post, mention, tag or notification."""
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    before = await count(instance, t.posts)

    async def failing_listener(conn, event: Event) -> None:
        # The post row (and its mentions and tags) are already inserted when this runs.
        assert await conn.scalar(sa.select(sa.func.count()).select_from(t.posts)) == before + 1
        raise Boom("outbox unavailable")

    instance.ctx.events.on("post.created", failing_listener)
    with pytest.raises(Boom):
        await posts.create_post(instance.ctx, ana.actor_id, posts.Draft("hello @bo #halfway"))
    assert await count(instance, t.posts) == before
    assert await count(instance, t.post_tags, t.post_tags.c.tag == "halfway") == 0
    assert await count(instance, t.post_mentions, t.post_mentions.c.actor_id == bo.actor_id) == 0
    assert await count(instance, t.notifications, t.notifications.c.actor_id == bo.actor_id) == 0


async def test_raw_write_block_that_raises_keeps_nothing(instance) -> None:
    ana = await instance.create_member("ana")
    with pytest.raises(Boom):
        async with instance.db.write() as conn:
            await conn.execute(
                t.competencies.insert().values(
                    actor_id=ana.actor_id, name="welding", level="expert"
                )
            )
            raise Boom("halfway")
    assert await count(instance, t.competencies, t.competencies.c.name == "welding") == 0
    # The database is still usable afterwards (the SQLite write lock was released).
    async with instance.db.write() as conn:
        await conn.execute(
            t.competencies.insert().values(actor_id=ana.actor_id, name="welding", level="expert")
        )
    assert await count(instance, t.competencies, t.competencies.c.name == "welding") == 1


async def test_last_manager_leaving_changes_nothing(instance) -> None:
    """Leaving deletes the membership and roles first, then refuses: all of it is rolled back."""
    ana = await instance.create_member("ana")
    c = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="gardens",
        name="Gardens",
        purpose_text="Grow food together.",
    )
    with pytest.raises(Forbidden):
        await communities.leave(instance.ctx, ana.actor_id, c.id)
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, ana.actor_id) == "accepted"
        assert await communities.is_manager(conn, c.id, ana.actor_id)


async def test_failed_web_request_writes_nothing(instance) -> None:
    """A sign-up refused for a mismatched password confirmation leaves no account behind."""
    client = await instance.new_client()
    resp = await post_form(
        client,
        "/signup",
        {
            "username": "cy",
            "email": "cy@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD + "x",
        },
        page="/signup",
    )
    assert resp.status == 422
    assert await count(instance, t.actors, t.actors.c.username == "cy") == 0
    assert await count(instance, t.users, t.users.c.email == "cy@example.test") == 0


async def test_concurrent_posts_all_succeed(instance) -> None:
    members = [await instance.create_member(name) for name in ("ana", "bo", "cy")]
    drafts = [
        (m.actor_id, posts.Draft(f"post {i} by {m.username}")) for m in members for i in range(4)
    ]
    ids = await asyncio.gather(*(posts.create_post(instance.ctx, a, d) for a, d in drafts))
    assert len(set(ids)) == len(drafts)
    assert await count(instance, t.posts, t.posts.c.id.in_(ids)) == len(drafts)


async def test_concurrent_follows_of_one_person_all_succeed(instance) -> None:
    star = await instance.create_member("star")
    fans = [await instance.create_member(f"fan{i}") for i in range(6)]
    states = await asyncio.gather(
        *(follows.follow(instance.ctx, f.actor_id, star.actor_id) for f in fans)
    )
    assert states == ["accepted"] * len(fans)
    assert await count(instance, t.follows, t.follows.c.target_id == star.actor_id) == len(fans)


async def test_two_signups_over_http_at_once_both_succeed(instance) -> None:
    clients = [await instance.new_client() for _ in range(2)]

    async def signup(client, name: str):  # type: ignore[no-untyped-def]
        return await post_form(
            client,
            "/signup",
            {
                "username": name,
                "email": f"{name}@example.test",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
            page="/signup",
        )

    responses = await asyncio.gather(signup(clients[0], "dee"), signup(clients[1], "eve"))
    assert [r.status for r in responses] == [302, 302]
    assert (
        await count(
            instance, t.users, t.users.c.email.in_(["dee@example.test", "eve@example.test"])
        )
        == 2
    )
    for client, name in zip(clients, ("dee", "eve"), strict=False):
        home = await client.get("/home")
        assert f"@{name}" in await home.text()


async def test_same_username_at_once_one_wins_cleanly(instance) -> None:
    """Two sign-ups racing for one name: exactly one account, the other gets a clear error."""
    clients = [await instance.new_client() for _ in range(2)]
    responses = await asyncio.gather(
        *(
            post_form(
                c,
                "/signup",
                {
                    "username": "fay",
                    "email": f"fay{i}@example.test",
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                },
                page="/signup",
            )
            for i, c in enumerate(clients)
        )
    )
    statuses = sorted(r.status for r in responses)
    assert statuses[0] == 302 and 400 <= statuses[1] < 500, statuses
    assert await count(instance, t.actors, t.actors.c.username == "fay") == 1
