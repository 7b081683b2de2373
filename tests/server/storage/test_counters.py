"""The denormalised counters (``account_stats``, ``post_reply_counts``) equal a recount after any
sequence of changes to posts and follows — inserts, soft and hard deletes, audience and state
changes, cascades from a deleted actor — on SQLite and PostgreSQL; ``rebuild`` repairs them."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import clock
from server.services import counters
from server.storage import schema as t
from server.storage.db import Database

AUDIENCES = ("public", "unlisted", "followers", "community", "members", "partners", "direct")


@pytest.fixture
async def db(new_database_url):  # type: ignore[no-untyped-def]
    database = Database(await new_database_url())
    yield database
    await database.close()


def _actor(conn: sa.Connection, n: int) -> int:
    now = clock.now()
    return int(
        conn.execute(
            t.actors.insert()
            .values(
                uri=f"https://count.test/a{n}",
                kind="person",
                username=f"a{n}",
                domain="count.test",
                created_at=now,
                updated_at=now,
            )
            .returning(t.actors.c.id)
        ).scalar_one()
    )


class World:
    """Random changes over a few actors, posts and follows (a unit-of-work function per step)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = 0

    def step(self, conn: sa.Connection) -> None:
        rng = self.rng
        actors = [r[0] for r in conn.execute(sa.select(t.actors.c.id))]
        posts = [r[0] for r in conn.execute(sa.select(t.posts.c.id))]
        follows = [r[0] for r in conn.execute(sa.select(t.follows.c.id))]
        self.n += 1
        move = rng.choice(
            ["actor"] * 2
            + ["post"] * 8
            + ["soft_delete", "restore", "audience", "hard_delete", "reparent"] * 2
            + ["follow"] * 4
            + ["accept", "reject", "unfollow", "retarget"] * 2
            + ["drop_actor"]
        )
        if move == "actor" or len(actors) < 3:
            _actor(conn, self.n)
        elif move == "post":
            now = clock.now() + timedelta(seconds=rng.randint(-1000, 1000))
            conn.execute(
                t.posts.insert().values(
                    uri=f"https://count.test/p{self.n}",
                    author_id=rng.choice(actors),
                    local=False,
                    audience=rng.choice(AUDIENCES),
                    in_reply_to_id=rng.choice(posts) if posts and rng.random() < 0.6 else None,
                    created_at=now,
                    deleted_at=now if rng.random() < 0.1 else None,
                )
            )
        elif move in ("soft_delete", "restore", "audience", "hard_delete", "reparent") and posts:
            post = rng.choice(posts)
            where = t.posts.c.id == post
            if move == "soft_delete":
                conn.execute(t.posts.update().where(where).values(deleted_at=clock.now()))
            elif move == "restore":
                conn.execute(t.posts.update().where(where).values(deleted_at=None))
            elif move == "audience":
                conn.execute(t.posts.update().where(where).values(audience=rng.choice(AUDIENCES)))
            elif move == "reparent":
                parent = rng.choice([*posts, None])
                conn.execute(
                    t.posts.update()
                    .where(where, t.posts.c.id != parent)
                    .values(in_reply_to_id=parent)
                )
            else:
                conn.execute(t.posts.delete().where(where))
        elif move == "follow":
            a, b = rng.sample(actors, 2)
            conn.execute(_insert_follow(conn, a, b, rng.choice(["pending", "accepted"])))
        elif move in ("accept", "reject", "unfollow", "retarget") and follows:
            follow = rng.choice(follows)
            where = t.follows.c.id == follow
            if move == "accept":
                conn.execute(t.follows.update().where(where).values(state="accepted"))
            elif move == "reject":
                conn.execute(t.follows.update().where(where).values(state="pending"))
            elif move == "unfollow":
                conn.execute(t.follows.delete().where(where))
            else:
                row = conn.execute(sa.select(t.follows).where(where)).one()
                target = rng.choice(actors)
                taken = conn.execute(
                    sa.select(t.follows.c.id).where(
                        t.follows.c.follower_id == row.follower_id, t.follows.c.target_id == target
                    )
                ).first()
                if target != row.follower_id and taken is None:
                    conn.execute(t.follows.update().where(where).values(target_id=target))
        elif move == "drop_actor" and len(actors) > 4:
            conn.execute(t.actors.delete().where(t.actors.c.id == rng.choice(actors)))


def _insert_follow(conn: sa.Connection, a: int, b: int, state: str) -> sa.Executable:
    """The insert of a follow a → b, or a no-op select when the pair exists."""
    exists = conn.execute(
        sa.select(t.follows.c.id).where(t.follows.c.follower_id == a, t.follows.c.target_id == b)
    ).first()
    if exists is not None:
        return sa.select(1)
    return t.follows.insert().values(
        follower_id=a, target_id=b, state=state, created_at=clock.now()
    )


def _normalised(found: tuple[counters.AccountCounts, counters.ReplyCounts]) -> tuple:
    accounts, replies = found
    # SQLite gives back naive times: compare instants, not their spelling
    norm = {
        k: (s, fr, fg, when.replace(tzinfo=None) if when is not None else None)
        for k, (s, fr, fg, when) in accounts.items()
    }
    return norm, replies


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_counters_equal_a_recount_after_random_changes(db: Database, seed: int) -> None:
    world = World(seed)
    for i in range(160):
        await db.write(world.step)
        if i % 40 == 39:
            assert _normalised(await db.read(counters.stored)) == _normalised(
                await db.read(counters.recount)
            ), f"after step {i} (seed {seed})"
    accounts, replies = await db.read(counters.recount)
    assert accounts and replies, "the sequence made counts to compare"


async def test_a_failed_change_leaves_the_counters_alone(db: Database) -> None:
    """The triggers write in the change's transaction: a rollback undoes the count too."""
    author = await db.write(_actor, 1)

    def post_then_fail(conn: sa.Connection) -> None:
        conn.execute(
            t.posts.insert().values(
                uri="https://count.test/x",
                author_id=author,
                local=False,
                audience="public",
                created_at=clock.now(),
            )
        )
        raise RuntimeError("halfway")

    with pytest.raises(RuntimeError):
        await db.write(post_then_fail)
    accounts, _ = await db.read(counters.stored)
    assert author not in accounts


async def test_rebuild_repairs_counters_and_reports_progress(db: Database) -> None:
    world = World(7)
    for _ in range(60):
        await db.write(world.step)
    expected = _normalised(await db.read(counters.recount))

    def spoil(conn: sa.Connection) -> None:
        conn.execute(t.account_stats.update().values(statuses_count=99, followers_count=-3))
        conn.execute(t.post_reply_counts.update().values(replies=42))

    await db.write(spoil)
    assert _normalised(await db.read(counters.stored)) != expected
    seen: list[counters.Progress] = []
    await counters.rebuild(db, seen.append, batch=3)
    assert _normalised(await db.read(counters.stored)) == expected
    assert {p.what for p in seen} == {"accounts", "posts"}
    assert seen[-1].done == seen[-1].total
