"""A community page's facts beside its feeds (``services/community_page.py``): the cached answer is
the fresh one, a write to any table they are read from is seen by the next read, and the
watched tables are every table their statements read."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server import clock
from server.config import load_settings
from server.context import Context
from server.demo import load_demo
from server.services import accounts, communities, community_lists, community_page, role_terms
from server.storage import caches
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import ANONYMOUS, Viewer


async def _facts(ctx: Context, viewer: Viewer, community_id: int) -> Any:
    return await ctx.db.read(community_page.facts, ctx, viewer, community_id)


async def _fresh(ctx: Context, viewer: Viewer, community_id: int) -> community_page.Facts:
    return await ctx.db.read(community_page.load, ctx, viewer, community_id)


async def test_cached_facts_are_the_fresh_ones_and_writes_are_seen(
    ctx: Context, ana: accounts.Account, bo: accounts.Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caches, "SETTLE_SECONDS", 0)
    made = await communities.create_community(
        ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="We grow food.",
        description="",
        openness="open",
        member_list_visibility="public",
    )
    for viewer in (ANONYMOUS, Viewer(actor_id=bo.actor_id, local=True)):
        first, _terms = await _facts(ctx, viewer, made.id)
        again, _terms = await _facts(ctx, viewer, made.id)
        assert again is first  # from the cache
        assert first == await _fresh(ctx, viewer, made.id)
    before = (await _facts(ctx, ANONYMOUS, made.id))[0].member_count
    assert made.id not in [c.id for c in await ctx.db.read(community_lists.joined, bo.actor_id)]
    await communities.join(ctx, bo.actor_id, made.id)
    after, _terms = await _facts(ctx, ANONYMOUS, made.id)
    assert after.member_count == before + 1 == (await _fresh(ctx, ANONYMOUS, made.id)).member_count
    # the compose form's communities (cached per member) have it too
    assert made.id in [c.id for c in await ctx.db.read(community_lists.joined, bo.actor_id)]


async def test_terms_up_for_reconsideration_follow_the_clock(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache holds every term with an end; each read keeps those ended by then, as
    ``role_terms.up_for_reconsideration`` answers at that time."""
    now = clock.now()
    ends = now + timedelta(hours=1)

    class Term:
        def __init__(self, ends_at: Any) -> None:
            self.ends_at = ends_at

    held = [Term(now - timedelta(days=1)), Term(ends)]
    found = community_page.Facts(
        phase=None,  # type: ignore[arg-type]
        roles=[],
        items=[],
        changes=[],
        member_count=0,
        managers=[],
        initiatives=[],
        terms=held,  # type: ignore[arg-type]
    )
    cache = caches.CachedMap[community_page.Facts](60)
    monkeypatch.setattr(community_page, "cache_of", lambda conn: cache)
    key = (1, ANONYMOUS, ctx.base, ctx.settings.domain)
    cache.put(key, found, cache.generation)
    _facts_now, up = await _facts(ctx, ANONYMOUS, 1)
    assert up == held[:1]
    monkeypatch.setattr(clock, "now", lambda: ends + timedelta(seconds=1))
    _later, up = await _facts(ctx, ANONYMOUS, 1)
    assert up == held


def _tables_read(sql: str) -> set[str]:
    return {name for name in t.metadata.tables if re.search(rf"\b{name}\b", sql)}


@pytest.mark.slow  # the demo's communities: roles with holders and terms, roadmaps, initiatives
async def test_the_watched_tables_are_every_table_the_facts_read(tmp_path: Path) -> None:
    settings = load_settings(
        env={},
        url="http://127.0.0.1:9",
        data_dir=str(tmp_path / "demo"),
        secret="community-page-facts",
        run_workers=False,
    )
    await load_demo(settings, lambda _m: None)
    db = Database(settings.database_url)
    ctx = Context(db, settings)
    read: set[str] = set()

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        read.update(_tables_read(statement))

    try:
        async with db.read() as conn:
            rows = await conn.execute(sa.select(t.communities.c.id, t.communities.c.actor_id))
            found = [(r.id, r.actor_id) for r in rows]
            members = {
                r.target_id: r.follower_id
                for r in await conn.execute(
                    sa.select(t.follows.c.target_id, t.follows.c.follower_id)
                )
            }
            terms = 0
            for community_id, _actor in found:
                terms += len(await role_terms.up_for_reconsideration(conn, community_id))
        assert terms, "the demo has a term up for reconsideration"
        event.listen(Engine, "before_cursor_execute", seen)
        try:
            for community_id, actor_id in found:
                for viewer in (ANONYMOUS, Viewer(actor_id=members.get(actor_id), local=True)):
                    await db.read(community_page.load, ctx, viewer, community_id)
        finally:
            event.remove(Engine, "before_cursor_execute", seen)
    finally:
        await db.close()
    assert read, "the facts were read"
    assert read <= set(community_page.TABLES), read - set(community_page.TABLES)
