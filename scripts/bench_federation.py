"""Measure federation throughput between two real instances on loopback (SQLite by default).

    python scripts/bench_federation.py [--activities 300] [--inboxes 1]

Delivery: activities queued on A, signed and POSTed by A's worker to B, verified and stored by B.
Inbox: pre-signed activities POSTed concurrently to B, verified and stored (202).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from federation.delivery import enqueue, run_delivery_once
from federation.signatures import KeyCache, sign_request
from server.app import create_app
from server.config import load_settings
from server.keys import CTX
from server.services import accounts
from server.storage import schema as t


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start(root: Path, name: str) -> TestServer:
    port = _port()
    data = root / name
    settings = load_settings(
        env={},
        url=f"http://127.0.0.1:{port}",
        data_dir=str(data),
        port=port,
        database_url=f"sqlite:///{data}/k.sqlite3",
        allow_private_addresses=True,
        run_workers=False,
        secret=uuid.uuid4().hex,
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    return server


async def main(activities: int, inboxes: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = await _start(Path(tmp), "a"), await _start(Path(tmp), "b")
        ctx_a, ctx_b = a.app[CTX], b.app[CTX]
        alice = await accounts.create_account(
            ctx_a.db, ctx_a.settings, username="alice", email="a@x.test", password="correct horse"
        )
        for i in range(inboxes):
            await accounts.create_account(
                ctx_b.db,
                ctx_b.settings,
                username=f"bob{i}",
                email=f"b{i}@x.test",
                password="correct horse",
            )
        targets = [f"{ctx_b.settings.url}/users/bob{i}/inbox" for i in range(inboxes)]
        uri = f"{ctx_a.settings.url}/users/alice"
        async with ctx_a.db.write() as conn:
            for _ in range(activities):
                doc = {
                    "id": f"{uri}/activities/{uuid.uuid4().hex}",
                    "type": "Like",
                    "actor": uri,
                    "object": uri,
                }
                await enqueue(conn, activity=doc, actor_id=alice.actor_id, inboxes=targets)
        await run_delivery_once(a.app)  # warm up: B fetches alice's key once
        start = time.perf_counter()
        sent = 0
        while (n := await run_delivery_once(a.app)) > 0:
            sent += n
        took = time.perf_counter() - start
        print(
            f"delivery: {sent} signed POSTs to {inboxes} inbox(es) in {took:.2f}s = {sent / took:.0f}/s"
        )

        async with ctx_a.db.read() as conn:
            key = (
                await conn.execute(sa.select(t.actors).where(t.actors.c.id == alice.actor_id))
            ).one()
        url = f"{ctx_b.settings.url}/inbox"
        bodies = []
        for _ in range(activities):
            doc = f'{{"id":"{uri}/activities/{uuid.uuid4().hex}","type":"Like","actor":"{uri}","object":"{uri}"}}'
            bodies.append(doc.encode())
        keys = KeyCache()
        start = time.perf_counter()
        signed = [
            sign_request(
                "POST",
                url,
                {"Content-Type": "application/activity+json"},
                body,
                key.key_id,
                key.private_key_pem,
                keys=keys,
            )
            for body in bodies
        ]
        sign_took = time.perf_counter() - start
        async with aiohttp.ClientSession() as session:
            sem = asyncio.Semaphore(16)

            async def post(body: bytes, headers: dict[str, str]) -> int:
                async with sem, session.post(url, data=body, headers=headers) as resp:
                    return resp.status

            start = time.perf_counter()
            statuses = await asyncio.gather(
                *(post(b_, h) for b_, h in zip(bodies, signed, strict=True))
            )
            took = time.perf_counter() - start
        ok = statuses.count(202)
        print(f"signing: {activities} in {sign_took:.2f}s = {activities / sign_took:.0f}/s")
        print(f"inbox: {ok}/{activities} verified and stored in {took:.2f}s = {ok / took:.0f}/s")
        await a.close()
        await b.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=300)
    parser.add_argument("--inboxes", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.activities, args.inboxes))
