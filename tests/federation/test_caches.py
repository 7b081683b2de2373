"""The inbox's caches (domain policy, remote keys) and its batched store."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from federation import policy
from federation.state import INBOX_WRITER
from server import clock
from server.storage import schema as t
from server.storage.caches import CachedMap, CachedValue, watch_of
from tests.federation.conftest import activity_rows, post_activity, signer_for

pytestmark = pytest.mark.slow


async def _statements(db, fn):
    """Run ``fn()`` and count the SELECTs it issues."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await fn()
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return seen


async def test_the_inbox_asks_the_cached_policy_without_a_connection(pair) -> None:
    _a, b = pair
    engine = b.db.engine.sync_engine

    async def refused() -> bool:
        async with b.db.read() as conn:
            return await policy.is_refused(conn, b.settings, "bad.example")

    assert not await refused()  # loads the policy
    assert policy.refused_if_known(engine, b.settings, "bad.example") is False
    async with b.db.write() as conn:
        await conn.execute(
            sa.insert(t.domain_blocks).values(
                domain="bad.example", severity="suspend", created_at=clock.now()
            )
        )
    assert policy.refused_if_known(engine, b.settings, "bad.example") is None  # forgotten
    await asyncio.sleep(0.3)  # values loaded right after a commit are not kept
    assert await refused()
    assert policy.refused_if_known(engine, b.settings, "BAD.example") is True
    alice = await signer_for(_a, "alice")
    doc = alice.activity("Like", object=f"{alice.uri}/x")
    doc["actor"] = doc["id"] = "https://bad.example/users/x"
    status, _ = await post_activity(f"{b.url}/inbox", doc, alice)
    assert status == 403  # refused before the signature, from the cache


async def test_domain_policy_is_read_once_and_reloaded_after_a_block(pair) -> None:
    _a, b = pair

    async def refused() -> set[str]:
        async with b.db.read() as conn:
            return await policy.refused_hosts(conn, b.settings, ["bad.example", "ok.example"])

    assert await refused() == set()
    assert await _statements(b.db, refused) == []  # from the cache
    async with b.db.write() as conn:
        await conn.execute(
            sa.insert(t.domain_blocks).values(
                domain="bad.example", severity="suspend", created_at=clock.now()
            )
        )
        # The writing transaction sees its own block at once.
        assert await policy.refused_hosts(conn, None, ["bad.example"]) == {"bad.example"}
    assert await refused() == {"bad.example"}
    async with b.db.write() as conn:
        await conn.execute(
            sa.delete(t.domain_blocks).where(t.domain_blocks.c.domain == "bad.example")
        )
    assert await refused() == set()


async def test_a_rolled_back_block_is_not_kept(pair) -> None:
    _a, b = pair
    with pytest.raises(RuntimeError):
        async with b.db.write() as conn:
            await conn.execute(
                sa.insert(t.domain_blocks).values(
                    domain="bad.example", severity="suspend", created_at=clock.now()
                )
            )
            assert await policy.refused_hosts(conn, None, ["bad.example"]) == {"bad.example"}
            raise RuntimeError("rolled back")
    async with b.db.read() as conn:
        assert await policy.refused_hosts(conn, None, ["bad.example"]) == set()


async def test_a_block_by_another_process_is_seen_after_the_ttl(
    pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, b = pair
    async with b.db.read() as conn:
        assert await policy.block_severity(conn, "bad.example") is None
    cache = watch_of(b.db.engine.sync_engine).cache(
        "domain_policy", lambda: CachedValue[object](policy.POLICY_TTL), (), ()
    )
    # Another process writes behind this one's back (raw SQL is what this process cannot see).
    async with b.db.write() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO domain_blocks (domain, severity, reason, created_at) "
                "VALUES ('bad.example', 'silence', '', :now)"
            ),
            {"now": clock.now()},
        )
    async with b.db.read() as conn:
        assert await policy.block_severity(conn, "bad.example") is None  # still cached
    monkeypatch.setattr(cache, "ttl", 0.0)
    async with b.db.read() as conn:
        assert await policy.block_severity(conn, "bad.example") == "silence"


def test_cached_map_drops_values_loaded_across_a_write() -> None:
    cache: CachedMap[str] = CachedMap(ttl=60, maxsize=2)
    generation = cache.generation
    cache.invalidate()  # a write while the value was being read
    cache.put("k", "stale", generation)
    assert cache.get("k") is None
    cache.put("k", "v", cache.generation)
    cache.put("l", "w", cache.generation)
    cache.put("m", "x", cache.generation)
    assert (cache.get("k"), cache.get("l"), cache.get("m")) == (None, "w", "x")


async def test_remote_keys_are_cached_until_the_actor_changes(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    url = f"{b.url}/inbox"
    status, _ = await post_activity(url, alice.activity("Like", object=f"{alice.uri}/x"), alice)
    assert status == 202
    writer = b.app[INBOX_WRITER]
    found = await writer.key_lookup(alice.key_id, False)
    assert found is not None and found[1] == alice.uri
    assert await _statements(b.db, lambda: writer.key_lookup(alice.key_id, False)) == []
    async with b.db.write() as conn:  # a key refresh, a suspension: any update of actors
        await conn.execute(
            sa.update(t.actors).where(t.actors.c.uri == alice.uri).values(public_key_pem="NEW")
        )
    assert await writer.key_lookup(alice.key_id, False) == ("NEW", alice.uri)


async def test_concurrent_activities_are_stored_together_and_replays_dropped(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    url = f"{b.url}/inbox"
    await post_activity(url, alice.activity("Like", object=f"{alice.uri}/warm"), alice)
    docs = [alice.activity("Like", object=f"{alice.uri}/{i}") for i in range(12)]
    statuses = await asyncio.gather(*(post_activity(url, d, alice) for d in docs + docs[:3]))
    assert [s for s, _ in statuses] == [202] * 15
    rows = await activity_rows(b)
    assert sorted(r.uri for r in rows[1:]) == sorted(d["id"] for d in docs)
    assert {r.state for r in rows} == {"new"}
    assert all(r.signer_id is not None and r.actor_id == r.signer_id for r in rows)
    writer = b.app[INBOX_WRITER]
    again = await asyncio.gather(*(writer.store(d, alice.uri) for d in (docs[0], docs[0])))
    assert again == [None, None]


class _Counting:
    def __init__(self) -> None:
        self.invalidated = 0

    def invalidate(self) -> None:
        self.invalidated += 1


def test_an_invalidated_transaction_rolls_back_cleanly_and_forgets_the_cache(tmp_path) -> None:
    """A unit cancelled mid-write leaves an invalidated connection; its rollback must not raise
    from the cache's listener (that error replaced the cancellation, and a worker retried for
    ever instead of stopping), and the caches it may have dirtied forget."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE domain_blocks (domain TEXT)")
    cache = _Counting()
    watch_of(engine).watch(cache, ["domain_blocks"], ["insert"])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="cancelled"):
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
            conn.invalidate()
            raise RuntimeError("cancelled")
    assert cache.invalidated == 1


async def test_a_write_through_another_engine_on_the_same_database_invalidates(
    pair, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("a second engine on the same file: the SQLite units of work's threads")
    _a, b = pair
    async with b.db.read() as conn:
        assert await policy.refused_hosts(conn, None, ["bad.example"]) == set()
    url = sa.engine.make_url(b.settings.database_url).set(drivername="sqlite+pysqlite")
    other = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with other.begin() as conn:
            conn.execute(
                sa.insert(t.domain_blocks).values(
                    domain="bad.example", severity="suspend", created_at=clock.now()
                )
            )
    finally:
        other.dispose()
    async with b.db.read() as conn:
        assert await policy.refused_hosts(conn, None, ["bad.example"]) == {"bad.example"}
