"""Precomputed home feeds: after every kind of write, the home timeline read through the feed is
the timeline read from the posts themselves (the query the feed replaces), page by page, on SQLite
and PostgreSQL; the feed's rows follow follows, deletes and trimming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.config import load_settings
from server.context import Context
from server.services import accounts, communities, follows, home_feed, posts, timelines
from server.services.posts import Draft
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import PUBLIC_COLLECTION, Audience, Viewer
from tests import fast
from tests.conftest import PASSWORD, UNIT_URL

A = Audience
Page = timelines.Page


@dataclass
class World:
    ctx: Context
    ids: dict[str, int]  # username -> actor id
    community: Any

    def viewer(self, name: str) -> Viewer:
        return Viewer(actor_id=self.ids[name], local=True)

    async def say(self, name: str, text: str, **kw: Any) -> int:
        return await posts.create_post(self.ctx, self.ids[name], Draft(source=text, **kw))


@pytest.fixture
async def world(
    new_database_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """ana founded ``garden``; bo, cy and dan are members of the instance; feeds are kept."""
    monkeypatch.setattr(accounts, "generate_key_pair", fast.KEYS.take)
    monkeypatch.setattr(accounts, "_hasher", fast.CHEAP_HASHER)
    db = Database(await new_database_url())
    settings = load_settings(
        env={},
        url=UNIT_URL,
        data_dir=str(tmp_path / "data"),
        database_url=db.url,
        secret="unit-secret-" + "x" * 32,
        run_workers=False,
    )
    ctx = Context(db, settings)
    home_feed.register(ctx)
    ctx.organization_id = await accounts.ensure_organization(db, settings)
    ids = {}
    for name in ("ana", "bo", "cy", "dan"):
        account = await accounts.create_account(
            db, settings, username=name, email=f"{name}@example.test", password=PASSWORD
        )
        ids[name] = account.actor_id
    community = await communities.create_community(
        ctx, ids["ana"], handle="garden", name="Garden", purpose_text="Grow food"
    )
    try:
        yield World(ctx, ids, community)
    finally:
        await db.close()


def _pages(conn: sa.Connection, viewer: Viewer, read: Any) -> list[list[int]]:
    """Every way of paging we offer: one page of 40, pages of 3 back to the start, pages of 2
    forward from the start (min_id), and a since_id window."""
    out = [read(conn, viewer, Page(limit=40))]
    page = read(conn, viewer, Page(limit=3))
    while page:
        out.append(page)
        page = read(conn, viewer, Page(limit=3, max_id=page[-1]))
    page = read(conn, viewer, Page(limit=2, min_id=0))
    while page:
        out.append(page)
        page = read(conn, viewer, Page(limit=2, min_id=page[0]))
    if out[0]:
        out.append(read(conn, viewer, Page(limit=40, since_id=out[0][-1], max_id=out[0][0])))
    return out


def _from_posts(conn: sa.Connection, viewer: Viewer, page: Page) -> list[int]:
    """The home timeline as it was read before feeds: from the posts themselves."""
    return timelines._feed_ids(conn, timelines._home, viewer, page)


def _entries(conn: sa.Connection, actor_id: int) -> list[int]:
    e = t.home_feed_entries
    rows = conn.execute(
        sa.select(e.c.post_id).where(e.c.actor_id == actor_id).order_by(e.c.post_id.desc())
    )
    return [r[0] for r in rows]


async def _same(world: World, *names: str) -> list[int]:
    """The feed reads as the posts do for each of these people; returns the first one's home."""
    homes = []
    for name in names or ("bo",):
        viewer = world.viewer(name)
        fed = await world.ctx.db.read(_pages, viewer, timelines.home_ids)
        plain = await world.ctx.db.read(_pages, viewer, _from_posts)
        assert fed == plain, name
        homes.append(fed[0])
    return homes[0]


async def _built(world: World, name: str) -> bool:
    async with world.ctx.db.read() as conn:
        found = await conn.execute(
            sa.select(t.home_feeds.c.actor_id).where(t.home_feeds.c.actor_id == world.ids[name])
        )
        return found.first() is not None


async def test_the_feed_follows_every_write_that_changes_a_home(world: World) -> None:
    w, ids, ctx = world, world.ids, world.ctx
    first = await w.say("dan", "before bo follows")
    assert not await _built(w, "bo")
    await follows.follow(ctx, ids["bo"], ids["dan"])  # the first follow builds bo's feed
    assert await _built(w, "bo")
    assert await _same(w) == [first]
    mine = await w.say("bo", "mine")
    private = await w.say("dan", "for followers", audience=A.FOLLOWERS)
    direct = await w.say("dan", "to cy only @cy", audience=A.DIRECT)
    other = await w.say("cy", "boost me")
    boost = await posts.reblog(ctx, ids["dan"], other)
    assert await _same(w, "bo", "dan", "cy") == [boost, private, mine, first]
    async with ctx.db.read() as conn:
        assert direct in await conn.run_sync(_entries, ids["bo"])  # a candidate, never shown

    await communities.join(ctx, ids["bo"], w.community.id)
    in_garden = await w.say("ana", "garden news", audience=A.COMMUNITY, community_id=w.community.id)
    assert (await _same(w, "bo", "ana"))[0] == in_garden

    await follows.follow(ctx, ids["bo"], ids["dan"], show_reblogs=False)
    assert boost not in await _same(w)
    await follows.follow(ctx, ids["bo"], ids["dan"], show_reblogs=True)
    await follows.mute(ctx, ids["bo"], ids["dan"])
    assert private not in await _same(w)
    await follows.unmute(ctx, ids["bo"], ids["dan"])
    assert private in await _same(w)

    await follows.follow(ctx, ids["bo"], ids["cy"])
    await communities.join(ctx, ids["cy"], w.community.id)
    from_cy = await w.say("cy", "cy in the garden", community_id=w.community.id)
    await follows.block(ctx, ids["bo"], ids["cy"])  # the block ends the follow both ways
    assert from_cy not in await _same(w, "bo", "cy")
    await follows.unblock(ctx, ids["bo"], ids["cy"])
    assert from_cy in await _same(w)  # still in a community bo is a member of

    await posts.delete_post(ctx, ids["dan"], private)
    assert private not in await _same(w)
    async with ctx.db.read() as conn:
        assert private not in await conn.run_sync(_entries, ids["bo"])

    await follows.unfollow(ctx, ids["bo"], ids["dan"])
    home = await _same(w, "bo", "dan")
    assert first not in home and mine in home
    async with ctx.db.read() as conn:
        entries = await conn.run_sync(_entries, ids["bo"])
    assert first not in entries and boost not in entries and mine in entries

    await communities.leave(ctx, ids["bo"], w.community.id)
    home = await _same(w)
    assert in_garden not in home and from_cy not in home
    async with ctx.db.read() as conn:
        assert in_garden not in await conn.run_sync(_entries, ids["bo"])


async def test_a_trimmed_feed_reads_older_pages_from_the_posts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(home_feed, "MAX_LENGTH", 5)
    monkeypatch.setattr(home_feed, "TRIM_SLACK", 2)
    w, ids, ctx = world, world.ids, world.ctx
    older = [await w.say("dan", f"old {i}") for i in range(8)]
    await follows.follow(ctx, ids["bo"], ids["dan"])  # the newest 5 come in; the floor is below
    assert await _same(w) == list(reversed(older))
    newer = [await w.say(n, f"new {i}") for i in range(6) for n in ("dan", "bo")]
    await follows.follow(ctx, ids["bo"], ids["cy"])
    newer += [await w.say("cy", f"cy {i}") for i in range(3)]
    async with ctx.db.read() as conn:
        length = len(await conn.run_sync(_entries, ids["bo"]))
    assert length <= 5 + 2
    assert await _same(w, "bo", "dan") == sorted(older + newer, reverse=True)[:40]
    async with ctx.db.write() as conn:
        assert await conn.run_sync(home_feed.rebuild, ids["bo"]) == 5
    assert await _same(w)


async def test_home_reads_the_same_without_a_feed(world: World) -> None:
    w, ids = world, world.ids
    await w.say("bo", "a first post builds the author's feed")
    async with w.ctx.db.write() as conn:
        await conn.execute(t.home_feeds.delete())
    assert await _same(w) == await w.ctx.db.read(
        lambda conn: _from_posts(conn, w.viewer("bo"), Page())
    )
    assert ids


async def test_remote_posts_boosts_and_accepts_fill_the_feed(wired, member, remote_actor) -> None:
    ctx = wired.ctx
    await posts.create_post(ctx, member.actor_id, Draft(source="ana's first"))
    assert await follows.follow(ctx, member.actor_id, remote_actor.id) == "pending"
    await wired.cycle()
    follow = wired.transport.sent[-1].activity
    await wired.receive(remote_actor.activity("Accept", object=follow), remote_actor)
    note = {
        "id": f"{remote_actor.uri}/statuses/1",
        "type": "Note",
        "attributedTo": remote_actor.uri,
        "content": "<p>hello</p>",
        "to": [PUBLIC_COLLECTION],
        "cc": [f"{remote_actor.uri}/followers"],
    }
    await wired.receive(remote_actor.activity("Create", object=note), remote_actor)
    mine = await posts.create_post(ctx, member.actor_id, Draft(source="boost this, rosa"))
    original = {"id": f"{UNIT_URL}/users/ana/posts/{mine}", "type": "Note"}
    announce = remote_actor.activity("Announce", object=original)
    await wired.receive(announce, remote_actor)
    await wired.cycle()
    viewer = Viewer(actor_id=member.actor_id, local=True)
    fed = await ctx.db.read(_pages, viewer, timelines.home_ids)
    plain = await ctx.db.read(_pages, viewer, _from_posts)
    assert fed == plain and len(fed[0]) == 4  # ana's two, rosa's note and her boost
    async with ctx.db.read() as conn:
        assert await conn.run_sync(_entries, member.actor_id) == fed[0]


def _feed_state(conn: sa.Connection, post_ids: list[int]) -> tuple[list[tuple[int, int]], dict]:
    entries = sorted(
        (r[0], r[1])
        for r in conn.execute(
            sa.select(t.home_feed_entries.c.actor_id, t.home_feed_entries.c.post_id).where(
                t.home_feed_entries.c.post_id.in_(post_ids)
            )
        )
    )
    lengths = dict(
        (r[0], r[1])
        for r in conn.execute(sa.select(t.home_feeds.c.actor_id, t.home_feeds.c.length))
    )
    return entries, lengths


def _undo_added(conn: sa.Connection, post_ids: list[int], lengths: dict) -> None:
    conn.execute(t.home_feed_entries.delete().where(t.home_feed_entries.c.post_id.in_(post_ids)))
    for actor_id, length in lengths.items():
        conn.execute(
            t.home_feeds.update().where(t.home_feeds.c.actor_id == actor_id).values(length=length)
        )


async def test_posts_added_in_a_batch_fill_the_feeds_as_one_by_one(world: World) -> None:
    w, ids, ctx = world, world.ids, world.ctx
    await follows.follow(ctx, ids["dan"], ids["bo"])
    await follows.follow(ctx, ids["dan"], ids["cy"])
    await follows.follow(ctx, ids["ana"], ids["bo"])
    for name in ("bo", "cy"):  # every feed built before the posts (a first post builds one)
        await follows.follow(ctx, ids[name], ids["ana"])
    async with ctx.db.read() as conn:
        before = (await conn.run_sync(_feed_state, []))[1]
    assert set(before) == {ids[n] for n in ("ana", "bo", "cy", "dan")}
    made = [
        (await w.say(name, f"post {n}"), ids[name])
        for n, name in enumerate("bo cy bo cy bo".split())
    ]
    post_ids = [p for p, _ in made]
    async with ctx.db.read() as conn:
        one_by_one = await conn.run_sync(_feed_state, post_ids)  # the listener's post_added
    assert {a for a, _ in one_by_one[0]} == {ids["dan"], ids["ana"], ids["bo"], ids["cy"]}
    async with ctx.db.write() as conn:
        await conn.run_sync(_undo_added, post_ids, before)
        await conn.run_sync(home_feed.posts_added, made)
    async with ctx.db.read() as conn:
        assert await conn.run_sync(_feed_state, post_ids) == one_by_one
