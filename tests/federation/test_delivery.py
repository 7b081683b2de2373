"""The delivery queue: enqueue rules, real delivery between instances, retries, leases, status codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from federation.delivery import LEASE, _claim, backoff, retry_after_seconds, run_delivery_once
from federation.state import DELIVERY
from server import clock
from server.app import create_app
from server.keys import CTX
from server.storage import schema as t
from tests.conftest import free_port
from tests.federation.conftest import activity_rows, deliveries, queue, signer_for

pytestmark = pytest.mark.slow


async def test_enqueue_deduplicates_and_drops_own_and_suspended_hosts(pair) -> None:
    a, _b = pair
    async with a.db.write() as conn:
        await conn.execute(
            sa.insert(t.domain_blocks).values(
                domain="bad.example", severity="suspend", created_at=clock.now()
            )
        )
    alice = await signer_for(a, "alice")
    activity = alice.activity("Create")
    inboxes = [
        "https://x.example/inbox",
        "https://x.example/inbox",
        f"{a.url}/inbox",
        "https://bad.example/inbox",
        "https://sub.bad.example/inbox",
        "https://y.example/users/z/inbox",
    ]
    first = await queue(a, "alice", inboxes, activity)
    assert first is not None
    assert sorted(r.inbox for r in await deliveries(a)) == [
        "https://x.example/inbox",
        "https://y.example/users/z/inbox",
    ]
    # The same activity again, with one new inbox: one row more, same activity row.
    assert (
        await queue(a, "alice", ["https://x.example/inbox", "https://w.example/inbox"], activity)
        == first
    )
    assert len(await deliveries(a)) == 3
    assert await queue(a, "alice", [f"{a.url}/inbox"], alice.activity("Like")) is None


async def test_post_from_a_reaches_b_inbox(pair) -> None:
    a, b = pair
    await queue(a, "alice", [f"{b.url}/inbox"])
    assert await run_delivery_once(a.app) == 1
    [row] = await deliveries(a)
    assert (row.state, row.last_status, row.attempts) == ("sent", 202, 1)
    [stored] = await activity_rows(b)
    assert stored.type == "Create" and stored.document["actor"] == f"{a.url}/users/alice"
    assert await run_delivery_once(a.app) == 0  # nothing is sent twice


async def test_receiver_down_then_back(pair) -> None:
    a, b = pair
    # B stops; its port is now closed.
    port = b.settings.port
    await b.client.close()
    await queue(a, "alice", [f"{b.url}/users/bob/inbox"])
    assert await run_delivery_once(a.app) == 1
    [row] = await deliveries(a)
    assert row.state == "new" and row.attempts == 1 and "network" in row.last_error
    assert clock.aware(row.next_attempt_at) > clock.now() + timedelta(seconds=30)
    assert await run_delivery_once(a.app) == 0  # backing off: not due yet
    async with a.db.read() as conn:
        host = (
            await conn.execute(sa.select(t.hosts).where(t.hosts.c.domain == b.settings.domain))
        ).one()
    assert host.consecutive_failures == 1 and not host.unavailable

    # B comes back (a new process on the same database and port).
    app2 = create_app(b.settings)
    client2 = TestClient(TestServer(app2, host="127.0.0.1", port=port))
    await client2.start_server()
    try:
        assert await run_delivery_once(a.app) == 0
        # Time passes: the retry is due.
        assert await a.app[DELIVERY].run_once(now=clock.now() + timedelta(minutes=3)) == 1
        [row] = await deliveries(a)
        assert (row.state, row.attempts) == ("sent", 2)
        assert len(await activity_rows(b)) == 1
        async with a.db.read() as conn:
            host = (
                await conn.execute(sa.select(t.hosts).where(t.hosts.c.domain == b.settings.domain))
            ).one()
        assert host.consecutive_failures == 0
    finally:
        await client2.close()


async def test_crash_mid_delivery_resumes_after_lease_without_duplicates(pair) -> None:
    a, b = pair
    await queue(a, "alice", [f"{b.url}/inbox"])
    # A worker claims the row and dies before sending.
    now = clock.now()
    assert len(await _claim(a.db, now)) == 1
    worker = a.app[DELIVERY]
    assert await worker.run_once(now=now + timedelta(seconds=10)) == 0  # still leased
    assert await worker.run_once(now=now + LEASE + timedelta(seconds=1)) == 1
    assert await worker.run_once(now=now + LEASE + timedelta(seconds=2)) == 0
    assert len(await activity_rows(b)) == 1
    assert [r.state for r in await deliveries(a)] == ["sent"]


@pytest.fixture
async def stub():  # type: ignore[no-untyped-def]
    """An inbox that answers with whatever status the test sets."""
    answer = {"status": 202, "headers": {}}
    hits: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        hits.append(request.headers.get("Signature", ""))
        return web.Response(status=answer["status"], headers=answer["headers"])

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/inbox", answer, hits
    await server.close()


@pytest.mark.parametrize(
    ("status", "headers", "state", "min_wait", "max_wait"),
    [
        (404, {}, "failed", None, None),
        (400, {}, "failed", None, None),
        (500, {}, "new", 40, 80),
        (401, {}, "new", 40, 80),
        (429, {"Retry-After": "600"}, "new", 599, 601),
        (503, {"Retry-After": "120"}, "new", 119, 121),
    ],
)
async def test_status_codes(pair, stub, status, headers, state, min_wait, max_wait) -> None:
    a, _b = pair
    url, answer, hits = stub
    answer.update(status=status, headers=headers)
    await queue(a, "alice", [url])
    before = clock.now()
    assert await run_delivery_once(a.app) == 1
    assert len(hits) == 1 and "keyId=" in hits[0]
    [row] = await deliveries(a)
    assert (row.state, row.last_status) == (state, status)
    if min_wait is not None:
        wait = (clock.aware(row.next_attempt_at) - before).total_seconds()
        assert min_wait <= wait <= max_wait + 1


async def test_gives_up_after_three_days_and_marks_host_unavailable(pair, stub) -> None:
    a, _b = pair
    url, answer, hits = stub
    answer.update(status=500)
    await queue(a, "alice", [url])
    worker = a.app[DELIVERY]
    now = clock.now()
    for _ in range(40):
        [row] = await deliveries(a)
        if row.state != "new":
            break
        now = max(now, clock.aware(row.next_attempt_at)) + timedelta(seconds=1)
        await worker.run_once(now=now)
    [row] = await deliveries(a)
    assert row.state == "failed"
    assert now - clock.aware(row.created_at) <= timedelta(days=3, hours=1)
    async with a.db.read() as conn:
        host = (
            await conn.execute(sa.select(t.hosts).where(t.hosts.c.domain == url.split("/")[2]))
        ).one()
    assert host.unavailable and host.failure_days >= 3
    # An unavailable host is skipped, then probed again later; a success makes it available.
    sent_before = len(hits)
    await queue(a, "alice", [url])
    await worker.run_once(now=now)
    assert len(hits) == sent_before and (await deliveries(a))[-1].state == "skipped"
    # At probe time one delivery goes first; the other waits for its answer instead of being lost.
    answer.update(status=202)
    await queue(a, "alice", [url])
    await queue(a, "alice", [url])
    probe_time = clock.aware(host.probe_at) + timedelta(seconds=1)
    await worker.run_once(now=probe_time)
    assert sorted(r.state for r in (await deliveries(a))[-2:]) == ["new", "sent"]
    await worker.run_once(now=probe_time + timedelta(minutes=2))
    assert [r.state for r in (await deliveries(a))[-2:]] == ["sent", "sent"]
    async with a.db.read() as conn:
        host = (
            await conn.execute(sa.select(t.hosts).where(t.hosts.c.domain == url.split("/")[2]))
        ).one()
    assert not host.unavailable and host.consecutive_failures == 0


def test_backoff_grows_with_jitter() -> None:
    delays = [backoff(n) for n in range(1, 12)]
    assert 45 <= delays[0] <= 75
    assert delays[5] > delays[0] * 10
    assert max(delays) <= 12 * 3600 * 1.25


def test_retry_after_parsing() -> None:
    now = clock.now()
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds("999999", now) == 24 * 3600
    assert retry_after_seconds(None, now) is None
    assert retry_after_seconds("soon", now) is None


async def test_resent_after_crash_between_post_and_record_is_stored_once(pair) -> None:
    a, b = pair
    await queue(a, "alice", [f"{b.url}/inbox"])
    assert await run_delivery_once(a.app) == 1
    # The process died after B answered but before the row said so: the row is still "new".
    async with a.db.write() as conn:
        await conn.execute(
            sa.update(t.deliveries).values(state="new", next_attempt_at=clock.now(), sent_at=None)
        )
    assert await run_delivery_once(a.app) == 1
    assert [r.state for r in await deliveries(a)] == ["sent"]
    assert len(await activity_rows(b)) == 1  # B dedupes by activity id


async def test_queue_survives_a_restart_of_the_sender(pair) -> None:
    a, b = pair
    await queue(a, "alice", [f"{b.url}/inbox", f"{b.url}/users/bob/inbox"])
    # A worker claimed the rows, then the process stopped.
    assert len(await _claim(a.db, clock.now())) == 2
    port = a.settings.port
    await a.client.close()
    app2 = create_app(a.settings)
    client2 = TestClient(TestServer(app2, host="127.0.0.1", port=port))
    await client2.start_server()
    try:
        worker = app2[DELIVERY]
        assert await worker.run_once() == 0  # the old leases still hold
        assert await worker.run_once(now=clock.now() + LEASE + timedelta(seconds=1)) == 2
        assert await worker.run_once(now=clock.now() + LEASE + timedelta(seconds=2)) == 0
        async with app2[CTX].db.read() as conn:
            states = [r.state for r in await conn.execute(sa.select(t.deliveries.c.state))]
        assert states == ["sent", "sent"]
        assert len(await activity_rows(b)) == 1  # one activity, stored once
    finally:
        await client2.close()
