"""CPU time of one home timeline page of ids (limit 40): read from the precomputed feed, and read
from the posts as before feeds (the query the feed replaces), on a seeded data directory.

    python bench/home_feed_cost.py DIR

For ``bench`` (who follows many) and for the local member who follows fewest (at least one): the
query on the posts walks the posts until it finds 40 of theirs, so its cost grows with the table
for sparse homes; the feed's walk visits about 40 rows whatever the table holds. CPU time of this
process (``time.process_time``), so other load on the machine counts less.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from server.services import timelines  # noqa: E402
from server.storage import schema as t  # noqa: E402
from server.storage.db import Database  # noqa: E402
from server.visibility import Viewer  # noqa: E402


def _people(conn: sa.Connection) -> list[tuple[str, int]]:
    bench = conn.execute(
        sa.select(t.actors.c.id).where(t.actors.c.username == "bench", t.actors.c.domain.is_(None))
    ).scalar_one()
    f = t.follows
    n = sa.func.count(f.c.id).label("n")
    sparse = conn.execute(
        sa.select(t.users.c.actor_id, n)
        .join(f, sa.and_(f.c.follower_id == t.users.c.actor_id, f.c.state == "accepted"))
        .group_by(t.users.c.actor_id)
        .order_by(n, t.users.c.actor_id)
        .limit(1)
    ).one()
    return [("bench", bench), (f"fewest follows ({sparse.n})", sparse.actor_id)]


def _from_posts(conn: sa.Connection, viewer: Viewer, page: timelines.Page) -> list[int]:
    return timelines._feed_ids(conn, timelines._home, viewer, page)


def _cpu_ms(conn: sa.Connection, viewer: Viewer, read: Any, rounds: int) -> float:
    read(conn, viewer, timelines.Page(limit=40))
    started = time.process_time()
    for _ in range(rounds):
        read(conn, viewer, timelines.Page(limit=40))
    return (time.process_time() - started) / rounds * 1000


async def main(data: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{data / 'koers.sqlite3'}")
    try:
        for label, actor_id in await db.read(_people):
            viewer = Viewer(actor_id=actor_id, local=True)
            feed = await db.read(_cpu_ms, viewer, timelines.home_ids, 30)
            posts = await db.read(_cpu_ms, viewer, _from_posts, 5)
            print(f"{label:24} feed {feed:7.2f} ms CPU   from the posts {posts:7.2f} ms CPU")
    finally:
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a directory written by bench/seed.py (SQLite)")
    asyncio.run(main(parser.parse_args().data))
