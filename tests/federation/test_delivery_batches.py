"""A delivery cycle signs its batch in the signing pool and records its outcomes together."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation import delivery, signing
from federation.delivery import _host_events, _Outcome, run_delivery_once
from federation.state import DELIVERY
from server.storage import schema as t
from tests.conftest import free_port
from tests.federation.conftest import activity_rows, deliveries, queue, signer_for

pytestmark = pytest.mark.slow


async def test_a_batch_signed_in_the_pool_is_verified_and_stored_by_the_receiver(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    count = signing.INLINE_AT_MOST + 4
    for _ in range(count):
        await queue(a, "alice", [f"{b.url}/inbox"], alice.activity("Like", object=alice.uri))
    signer = a.app[DELIVERY].signer
    signer.processes = 2
    assert await run_delivery_once(a.app) == count
    assert signer._pool is not None
    assert [r.state for r in await deliveries(a)] == ["sent"] * count
    assert len(await activity_rows(b)) == count


async def _answering(status: int):  # type: ignore[no-untyped-def]
    """An inbox at a loopback address answering every POST with ``status``."""
    app = web.Application()

    async def inbox(_request: web.Request) -> web.Response:
        return web.Response(status=status)

    app.router.add_post("/inbox", inbox)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/inbox"
    await server.close()


@pytest.fixture
async def failing():
    async for url in _answering(500):
        yield url


async def test_failures_of_one_cycle_are_counted_once_each_in_one_row_per_host(
    pair, failing
) -> None:
    a, _b = pair
    for _ in range(3):
        await queue(a, "alice", [failing])
    assert await run_delivery_once(a.app) == 3
    rows = await deliveries(a)
    assert [(r.state, r.attempts, r.last_status) for r in rows] == [("new", 1, 500)] * 3
    assert all(r.locked_until is None for r in rows)
    async with a.db.read() as conn:
        host = (await conn.execute(sa.select(t.hosts))).one()
    assert (host.consecutive_failures, host.failure_days) == (3, 1)
    assert host.last_error == "HTTP 500"


@pytest.fixture
async def accepting():
    async for url in _answering(202):
        yield url


async def test_every_host_that_answered_in_a_cycle_is_healthy_again_in_one_statement(
    pair, accepting
) -> None:
    a, b = pair
    hosts = [delivery.host_of(f"{b.url}/inbox"), delivery.host_of(accepting)]
    async with a.db.write() as conn:
        await conn.execute(
            sa.insert(t.hosts),
            [
                {"domain": h, "consecutive_failures": 5, "failure_days": 2, "last_error": "x"}
                for h in hosts
            ],
        )
    for inbox in (f"{b.url}/inbox", accepting, accepting):
        await queue(a, "alice", [inbox])
    updates: list[str] = []

    def count(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE hosts") and "last_success_at" in statement:
            updates.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    try:
        assert await run_delivery_once(a.app) == 3
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)
    assert len(updates) == 1
    async with a.db.read() as conn:
        rows = (await conn.execute(sa.select(t.hosts).order_by(t.hosts.c.domain))).all()
    assert sorted(r.domain for r in rows) == sorted(hosts)
    for row in rows:
        assert (row.consecutive_failures, row.failure_days, row.unavailable) == (0, 0, False)
        assert row.last_success_at is not None


def test_host_events_collapse_to_the_outcome_of_replaying_them_in_order() -> None:
    class Row:
        def __init__(self, host: str) -> None:
            self.host = host

    def outcome(host: str, event: str | None, error: str = "x") -> _Outcome:
        return _Outcome(Row(host), {"last_error": error}, event)

    events = _host_events(
        [
            outcome("a", "down", "first"),
            outcome("a", "up"),
            outcome("a", "down", "second"),
            outcome("a", "down", "third"),
            outcome("b", "down"),
            outcome("b", "up"),
            outcome("c", None),
        ]
    )
    assert events == {"a": (True, 2, "third"), "b": (True, 0, "")}


def _slowed(fn, seen: dict[str, int]):  # type: ignore[no-untyped-def]
    """``fn`` delayed by 0.1 s, counting in ``seen`` the most calls under way at once."""

    async def slowed(arg):  # type: ignore[no-untyped-def]
        seen["now"] = seen.get("now", 0) + 1
        seen["most"] = max(seen.get("most", 0), seen["now"])
        await asyncio.sleep(0.1)
        try:
            return await fn(arg)
        finally:
            seen["now"] -= 1

    return slowed


async def _queue_likes(a, b, count: int) -> None:  # type: ignore[no-untyped-def]
    alice = await signer_for(a, "alice")
    for _ in range(count):
        await queue(a, "alice", [f"{b.url}/inbox"], alice.activity("Like", object=alice.uri))


async def test_the_loop_keeps_several_batches_in_flight_and_sends_each_once(
    pair, monkeypatch
) -> None:
    a, b = pair
    monkeypatch.setattr(delivery, "BATCH", 3)
    await _queue_likes(a, b, 10)
    worker = a.app[DELIVERY]
    sending: dict[str, int] = {}
    # a slow receiver: the loop claims and signs the next batches meanwhile
    monkeypatch.setattr(worker, "_send_and_record", _slowed(worker._send_and_record, sending))
    await _loop_until_sent(a, 10)
    assert sending["most"] == delivery.PIPELINE
    assert len(await activity_rows(b)) == 10  # each sent once


async def test_the_next_batches_are_signed_while_the_last_is_still_being_signed(
    pair, monkeypatch
) -> None:
    """The loop awaits only the claim: a batch waiting for the signing pool does not keep the
    next ones from being claimed and handed to the pool."""
    a, b = pair
    monkeypatch.setattr(delivery, "BATCH", 2)
    await _queue_likes(a, b, 8)
    worker = a.app[DELIVERY]
    signing: dict[str, int] = {}  # a busy pool
    monkeypatch.setattr(worker.signer, "sign_many", _slowed(worker.signer.sign_many, signing))
    await _loop_until_sent(a, 8)
    assert signing["most"] == delivery.PIPELINE
    assert len(await activity_rows(b)) == 8  # each sent once


async def _loop_until_sent(a, count: int) -> None:  # type: ignore[no-untyped-def]
    """Run ``a``'s delivery loop until its ``count`` deliveries are sent (then stop it)."""
    task = asyncio.create_task(a.app[DELIVERY].loop(idle_seconds=0.05))
    try:
        for _ in range(200):
            if [r.state for r in await deliveries(a)] == ["sent"] * count:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [r.state for r in await deliveries(a)] == ["sent"] * count


async def test_a_cycle_reads_and_writes_on_the_event_loop_thread_of_a_sqlite_file(
    pair, monkeypatch, backend: str
) -> None:
    """The claim, the cycle's reads and the outcomes run where the loop runs (a group commit of
    their own), not on a connection thread contending with the loop for the GIL."""
    import threading

    from federation import batch

    a, b = pair
    if backend != "sqlite" or ":memory:" in str(a.db.engine.url):
        pytest.skip("units of work run on the loop thread on a SQLite file only")
    await _queue_likes(a, b, 3)
    threads: dict[str, str] = {}

    def spied(name: str, fn):  # type: ignore[no-untyped-def]
        def unit(*args):  # type: ignore[no-untyped-def]
            threads[name] = threading.current_thread().name
            return fn(*args)

        return unit

    def spied_async(name: str, fn):  # type: ignore[no-untyped-def]
        async def unit(*args):  # type: ignore[no-untyped-def]
            threads[name] = threading.current_thread().name
            return await fn(*args)

        return unit

    monkeypatch.setattr(batch, "_claim", spied("claim", batch._claim))
    record = spied_async("record", delivery._record_outcomes)
    monkeypatch.setattr(delivery, "_record_outcomes", record)
    monkeypatch.setattr(delivery, "_cycle_reads", spied_async("reads", delivery._cycle_reads))
    assert await run_delivery_once(a.app) == 3
    assert [r.state for r in await deliveries(a)] == ["sent"] * 3
    here = threading.current_thread().name
    assert threads == {"claim": here, "record": here, "reads": here}
