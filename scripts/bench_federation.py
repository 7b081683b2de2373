"""Measure federation throughput on loopback (SQLite by default), every figure beside its ceiling.

    python scripts/bench_federation.py [--activities 400] [--inboxes 4] [--concurrency 16]
                                       [--database-url postgresql://…]

All in one run, since absolute figures on a shared machine are noisy:
- RSA-2048: signs/s and verifies/s on one core, and the machine's signing limit (all cores);
- a bare aiohttp POST handler (202) under the same client: the HTTP ceiling;
- inbox accepted: pre-signed ``Create`` activities POSTed to instance B, verified, stored, 202;
- inbox processed: B's worker applying them (remote posts stored);
- delivery: A's worker signing and POSTing queued activities to a bare sink, against the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.delivery import enqueue, run_delivery_once
from federation.inbox import process_inbox_once
from federation.signatures import KeyCache, sign_request, verify_request
from server.app import create_app
from server.config import load_settings
from server.keys import CTX
from server.services import accounts
from server.storage import schema as t

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start(root: Path, name: str, server_url: str = "") -> TestServer:
    port = _port()
    data = root / name
    database_url = f"sqlite:///{data}/k.sqlite3"
    if server_url:  # a fresh PostgreSQL database on that server, dropped by main at the end
        database_url = await _create_database(server_url, f"koers_bench_fed_{name}_{port}")
    settings = load_settings(
        env={},
        url=f"http://127.0.0.1:{port}",
        data_dir=str(data),
        port=port,
        database_url=database_url,
        allow_private_addresses=True,
        run_workers=False,
        secret=uuid.uuid4().hex,
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    return server


CREATED: list[tuple[str, str]] = []


async def _create_database(server_url: str, name: str) -> str:
    import asyncpg

    admin = "postgresql://" + server_url.split("://", 1)[1]
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    CREATED.append((admin, name))
    return "postgresql+asyncpg://" + admin.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name


async def _drop_databases() -> None:
    import asyncpg

    for admin, name in CREATED:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _rate(n: int, took: float) -> float:
    return n / took if took > 0 else float("inf")


def _sign_many(args: tuple[str, int]) -> int:
    """Sign ``count`` requests with ``pem`` (in a pool process)."""
    pem, count = args
    keys = KeyCache()
    for i in range(count):
        sign_request("POST", f"https://x.test/inbox/{i}", {}, b"{}", "k", pem, keys=keys)
    return count


async def crypto_figures(pem: str, public_pem: str, n: int) -> dict[str, float]:
    """signs/s and verifies/s on one core, and signs/s with one process per core."""
    keys = KeyCache()
    start = time.perf_counter()
    signed = [
        sign_request("POST", "https://b.test/inbox", {}, b'{"n":%d}' % i, "k", pem, keys=keys)
        for i in range(n)
    ]
    sign_rate = _rate(n, time.perf_counter() - start)

    async def lookup(_key_id: str, _refresh: bool) -> tuple[str, str]:
        return public_pem, "https://a.test/users/a"

    start = time.perf_counter()
    for i, headers in enumerate(signed):
        await verify_request("POST", "/inbox", headers, b'{"n":%d}' % i, lookup, keys=keys)
    verify_rate = _rate(n, time.perf_counter() - start)
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_sign_many, [(pem, 5)] * cores))  # start the processes
        start = time.perf_counter()
        done = sum(pool.map(_sign_many, [(pem, n // cores)] * cores))
        limit = max(sign_rate, _rate(done, time.perf_counter() - start))
    return {"sign": sign_rate, "verify": verify_rate, "limit": limit, "cores": cores}


async def _post_all(
    url: str, items: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> tuple[int, float]:
    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(concurrency)

        async def post(body: bytes, headers: dict[str, str]) -> int:
            async with sem, session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                return resp.status

        start = time.perf_counter()
        statuses = await asyncio.gather(*(post(b, h) for b, h in items))
        took = time.perf_counter() - start
    return sum(1 for s in statuses if s in (200, 202)), took


async def _sink(counter: list[int]) -> TestServer:
    async def accept(request: web.Request) -> web.Response:
        await request.read()
        counter[0] += 1
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/{tail:.*}", accept)
    server = TestServer(app, host="127.0.0.1", port=_port())
    await server.start_server()
    return server


class StatementCount:
    """Counts the statements an engine runs while the block is open."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine
        self.count = 0

    def _seen(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> StatementCount:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


async def _drain(step: Callable[[], Awaitable[int]]) -> tuple[int, float]:
    start = time.perf_counter()
    done = 0
    while (n := await step()) > 0:
        done += n
    return done, time.perf_counter() - start


async def main(activities: int, inboxes: int, concurrency: int, server_url: str = "") -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        await _run(activities, inboxes, concurrency, server_url)
    finally:
        await _drop_databases()


async def _run(activities: int, inboxes: int, concurrency: int, server_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        a = await _start(Path(tmp), "a", server_url)
        b = await _start(Path(tmp), "b", server_url)
        counter = [0]
        sink = await _sink(counter)
        ctx_a, ctx_b = a.app[CTX], b.app[CTX]
        alice = await accounts.create_account(
            ctx_a.db, ctx_a.settings, username="alice", email="a@x.test", password="correct horse"
        )
        await accounts.create_account(
            ctx_b.db, ctx_b.settings, username="bob", email="b@x.test", password="correct horse"
        )
        async with ctx_a.db.read() as conn:
            key = (
                await conn.execute(sa.select(t.actors).where(t.actors.c.id == alice.actor_id))
            ).one()
        uri = key.uri
        crypto = await crypto_figures(key.private_key_pem, key.public_key_pem, activities)
        print(
            f"RSA-2048 on one core: {crypto['sign']:.0f} signs/s, {crypto['verify']:.0f} "
            f"verifies/s; signing limit on {crypto['cores']} cores: {crypto['limit']:.0f}/s"
        )

        inbox_url = f"{ctx_b.settings.url}/inbox"
        bare_counter = [0]
        bare = await _sink(bare_counter)
        body = b'{"type":"Like"}'
        no_headers: dict[str, str] = {}
        _, took = await _post_all(
            f"http://127.0.0.1:{bare.port}/inbox",
            [(body, no_headers)] * activities * 2,
            concurrency,
        )
        bare_rate = _rate(activities * 2, took)
        await bare.close()
        print(f"bare aiohttp handler: {bare_rate:.0f} req/s (concurrency {concurrency})")

        def create(i: int) -> bytes:
            note = f"{uri}/notes/{uuid.uuid4().hex}"
            return (
                f'{{"id":"{note}/activity","type":"Create","actor":"{uri}","to":["{PUBLIC}"],'
                f'"object":{{"id":"{note}","type":"Note","attributedTo":"{uri}",'
                f'"to":["{PUBLIC}"],"content":"<p>bench {i}</p>",'
                f'"published":"2026-12-01T10:00:00Z"}}}}'
            ).encode()

        warm = create(-1)
        headers = {"Content-Type": "application/activity+json"}
        keys = KeyCache()
        sign = lambda body: sign_request(  # noqa: E731
            "POST", inbox_url, headers, body, key.key_id, key.private_key_pem, keys=keys
        )
        await _post_all(inbox_url, [(warm, sign(warm))], 1)  # B fetches alice's key once
        bodies = [create(i) for i in range(activities)]
        items = [(body, sign(body)) for body in bodies]
        engine_b = ctx_b.db.engine.sync_engine
        with StatementCount(engine_b) as stored_by:
            ok, took = await _post_all(inbox_url, items, concurrency)
        accepted = _rate(ok, took)
        print(
            f"inbox accepted: {ok}/{activities} in {took:.2f}s = {accepted:.0f}/s "
            f"= 1/{bare_rate / accepted:.1f} of the bare handler "
            f"({stored_by.count / max(ok, 1):.2f} statements each)"
        )
        cpu = time.process_time()
        with StatementCount(engine_b) as applied_by:
            done, took = await _drain(lambda: process_inbox_once(b.app))
        cpu = time.process_time() - cpu
        async with ctx_b.db.read() as conn:
            stored = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(t.posts)
                    .where(t.posts.c.local.is_(False))
                )
            ).scalar_one()
        print(
            f"inbox processed: {done} in {took:.2f}s = {_rate(done, took):.0f}/s "
            f"({stored} remote posts stored; {applied_by.count / max(done, 1):.1f} statements, "
            f"{cpu * 1000 / max(done, 1):.2f} ms CPU each)"
        )

        targets = [f"http://127.0.0.1:{sink.port}/users/u{i}/inbox" for i in range(inboxes)]

        async def queue(count: int) -> None:
            async with ctx_a.db.write() as conn:
                for _ in range(count):
                    doc = {"id": f"{uri}/likes/{uuid.uuid4().hex}", "type": "Like", "actor": uri}
                    doc["object"] = uri
                    await enqueue(conn, activity=doc, actor_id=alice.actor_id, inboxes=targets)

        await queue(max(1, 16 // inboxes))  # warm up: connections, the signing processes
        await _drain(lambda: run_delivery_once(a.app))
        counter[0] = 0
        await queue(activities // inboxes)
        with StatementCount(ctx_a.db.engine.sync_engine) as sent_by:
            sent, took = await _drain(lambda: run_delivery_once(a.app))
        rate = _rate(sent, took)
        print(
            f"delivery: {sent} signed POSTs ({counter[0]} received) to {inboxes} inbox(es) in "
            f"{took:.2f}s = {rate:.0f}/s = {100 * rate / crypto['limit']:.0f}% of the signing limit "
            f"({sent_by.count / max(sent, 1):.2f} statements each)"
        )
        await sink.close()
        await a.close()
        await b.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=400)
    parser.add_argument("--inboxes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server (postgresql://user@host:port/db): both instances get a fresh "
        "database on it, dropped at the end (default: SQLite files)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.activities, args.inboxes, args.concurrency, args.database_url))
