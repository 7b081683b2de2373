"""The inbox worker in one process, for profiling: stored ``Create`` activities applied in a loop.

    python bench/inbox_apply.py --data DIR [--activities N] [--profile FILE] [--actors 10]

Copies nothing: run it on a data directory of its own (``bench/seed.py``), as ``bench/run.py``
does. It adds the benchmark's loopback remote people (followed by ``bench``), stores ``N`` signed-
looking ``Create`` activities of public notes by them (as the inbox would after verifying), then
runs ``process_inbox_once`` until they are applied, and prints activities per second, CPU ms,
statements (as SQLAlchemy sends them, and as SQLite runs them) and transactions per activity (``--profile FILE``: a cProfile of the applying in CPU time, for ``pstats``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.counting import install
from bench.fediverse import Actors, new_key
from bench.store import Store

ROOT = Path(__file__).resolve().parent.parent


async def _store_activities(store: Store, actors: Actors, n: int) -> None:
    now = store.ts(datetime.now(UTC))
    ids = {
        actors.uri(i): await store.value("SELECT id FROM actors WHERE uri = ?", actors.uri(i))
        for i in range(actors.count)
    }
    rows = []
    for i in range(n):
        doc = json.loads(actors.create_note(i, f"bench activity {i}"))
        signer = ids[doc["actor"]]
        rows.append((doc["id"], signer, signer, json.dumps(doc), now, now))
    assert store.sqlite is not None, "the in-process inbox benchmark runs on SQLite"
    with store.sqlite:
        store.sqlite.execute("BEGIN")
        store.sqlite.executemany(
            "INSERT INTO activities (uri, direction, type, actor_id, signer_id, document, state,"
            " attempts, next_attempt_at, created_at) VALUES (?, 'in', 'Create', ?, ?, ?, 'new', 0,"
            " ?, ?)",
            rows,
        )


async def main(argv: list[str]) -> int:
    """Store the activities, apply them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a directory written by bench/seed.py")
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--actors", type=int, default=10, help="remote people sending them")
    parser.add_argument("--profile", help="write a cProfile of the applying here")
    args = parser.parse_args(argv)
    counts = memoryview(bytearray(8 * 3)).cast("Q")
    install(counts)

    from aiohttp import web

    from federation.inbox_worker import process_inbox_once
    from server.app import create_app
    from server.config import load_settings
    from server.storage.db import Database

    made = json.loads((Path(args.data) / "bench.json").read_text())
    store = await Store.open("", args.data)
    actors = Actors(new_key(), count=args.actors, port=9)
    bench = await store.actor_id(made["user"])
    await store.clear_queues()
    if await store.value("SELECT id FROM actors WHERE uri = ?", actors.uri(0)) is None:
        await store.follow_loopback_actors(bench, actors)
    await _store_activities(store, actors, args.activities)
    await store.close()

    settings = load_settings(None, url=made["url"], data_dir=args.data, run_workers=False)
    db = Database(settings.database_url)
    runner = web.AppRunner(create_app(settings, db=db))
    await runner.setup()
    app = runner.app
    profile = cProfile.Profile(time.process_time) if args.profile else None
    before = (counts[0], counts[1], counts[2])
    cpu, wall, done = time.process_time(), time.monotonic(), 0
    if profile:
        profile.enable()
    while n := await process_inbox_once(app):
        done += n
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    statements, transactions, traced = (counts[i] - before[i] for i in range(3))
    await runner.cleanup()
    await db.close()
    print(
        f"{done} activities in {wall:.2f} s: {done / wall:,.0f}/s, "
        f"{cpu / max(done, 1) * 1000:.2f} ms CPU, {statements / max(done, 1):.1f} statements "
        f"({(traced - transactions) / max(done, 1):.1f} run by SQLite, with its triggers' and its"
        f" executemany's rows) and {transactions / max(done, 1):.2f} transactions each"
        f" (load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
