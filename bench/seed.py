"""Write a large Koers data directory for the benchmarks, fast (bulk rows, not the HTTP API).

    python bench/seed.py DIR [--accounts 10000] [--statuses 1000000] [--follows 500]
                             [--database-url postgresql://…] [--url http://127.0.0.1:8080]

The schema comes from the normal migration and the organisation and the member ``bench``
(password ``bench-password-1``) from the account service; everything else is written in bulk:
local members (a quarter of the accounts, all with bench's password) and remote people on 50
hosts, communities with purpose, members, roles and roadmap items, posts in every audience with
replies, boosts, results, polls, tags and mentions, favourites, notifications, bookmarks and pins.
Bench follows ``--follows`` people and ``--follows / 25`` communities and has 100 remote
followers on 20 hosts. ``DIR/bench.json`` records what was made for ``bench/run.py``.

Serve it with ``KOERS_DATA_DIR=DIR koers serve`` (plus ``KOERS_DATABASE_URL`` for PostgreSQL);
ids use ``--url``, so keep ``KOERS_URL`` at that value (the default of both is the same).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench import seed_posts, seed_world  # noqa: E402
from bench.seed_writers import PostgresWriter, SqliteWriter, Writer  # noqa: E402
from server import clock  # noqa: E402
from server.config import ensure_data_dir, load_settings  # noqa: E402
from server.services import accounts, counters, home_feed, post_search  # noqa: E402
from server.storage import schema as t  # noqa: E402
from server.storage.db import Database, migrate  # noqa: E402

BENCH_USER = "bench"
BENCH_PASSWORD = "bench-password-1"
DEFAULT_URL = "http://127.0.0.1:8080"
TABLES = [
    "actors",
    "users",
    "partners",
    "communities",
    "community_managers",
    "purpose_versions",
    "roles",
    "role_holders",
    "roadmap_items",
    "roadmap_status_changes",
    "roadmap_supports",
    "follows",
    "notifications",
    "posts",
    "post_tags",
    "post_mentions",
    "result_contributors",
    "result_roles",
    "polls",
    "favourites",
    "bookmarks",
    "pins",
]


def plain_pg_url(url: str) -> str:
    """``postgresql://…`` for asyncpg, whatever driver suffix the URL carries."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


async def ensure_pg_database(url: str) -> None:
    """Create the database the URL names when it does not exist yet."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        name = parsed.database
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# Tables whose triggers keep the denormalised counters (``services/counters.py``).
COUNTED = ("posts", "follows")


async def recount(settings: Any) -> None:
    """The denormalised counters of everything written, in one pass (``koers counters rebuild``),
    and the full-text index of the posts (``koers search rebuild``): the paused triggers of
    ``posts`` keep both."""
    db = Database(settings.database_url)
    try:
        await counters.rebuild(db, batch=50_000)
        await post_search.rebuild(db)
    finally:
        await db.close()


async def bootstrap(settings: Any) -> tuple[int, int, str]:
    """Migrate, then create the organisation and bench through the services; refuses data."""
    db = Database(settings.database_url)
    try:
        await db.check()
        await migrate(db)
        async with db.read() as conn:
            if (await conn.execute(sa.select(sa.func.count()).select_from(t.posts))).scalar():
                raise SystemExit("seed: the database has posts already; give an empty one")
        await accounts.ensure_organization(db, settings)
        bench = await accounts.create_account(
            db,
            settings,
            username=BENCH_USER,
            email="bench@bench.example",
            password=BENCH_PASSWORD,
            display_name="Bench",
        )
        async with db.read() as conn:
            hashed = (
                await conn.execute(
                    sa.select(t.users.c.password_hash).where(t.users.c.id == bench.user_id)
                )
            ).scalar_one()
        return bench.actor_id, bench.user_id, str(hashed)
    finally:
        await db.close()


async def build_feeds(database_url: str, say: Any, started: float) -> tuple[int, int]:
    """The home feed of every local account, built from the posts as ``koers feeds rebuild``
    does (the bulk rows above were written past the server's listeners)."""
    db = Database(database_url)
    step = max(1, home_feed.REBUILD_BATCH * 10)

    def progress(done: int, total: int, rows: int) -> None:
        if done % step == 0 or done == total:
            say(f"  home feeds {done:>8,} / {total:,}  {rows:,} rows")

    try:
        feeds, rows = await home_feed.rebuild_all(db, progress=progress)
    finally:
        await db.close()
    say(f"{feeds:,} home feeds, {rows:,} rows ({time.monotonic() - started:.1f} s)")
    return feeds, rows


async def seed(
    data_dir: Path,
    *,
    accounts_n: int,
    statuses: int,
    follows: int,
    database_url: str | None = None,
    url: str = DEFAULT_URL,
    random_seed: int = 13,
    quiet: bool = False,
) -> dict[str, Any]:
    """Write the data set; returns what ``bench.json`` records."""
    say = (lambda *_a: None) if quiet else (lambda msg: print(msg, flush=True))
    started = time.monotonic()
    postgres = bool(database_url and database_url.startswith("postgres"))
    if postgres:
        await ensure_pg_database(str(database_url))
    settings = ensure_data_dir(
        load_settings(env={}, data_dir=str(data_dir), url=url, database_url=database_url)
    )
    bench_actor, bench_user, hashed = await bootstrap(settings)
    say(f"schema migrated, bench created ({time.monotonic() - started:.1f} s)")
    writer: Writer
    if postgres:
        writer = await PostgresWriter.open(plain_pg_url(str(database_url)))
    else:
        writer = SqliteWriter(settings.database_url.split(":///", 1)[1])
    # The triggers of posts (counters, search index) would work row by row; they are rebuilt once
    # at the end instead.
    await writer.pause_triggers(COUNTED)
    rng = random.Random(random_seed)
    ids = seed_world.Ids()
    await ids.load(writer, TABLES)
    w = seed_world.World(settings.url, clock.now(), bench_actor, bench_user, hashed)
    w.name[bench_actor], w.domain[bench_actor] = BENCH_USER, None
    w.user_of[bench_actor] = bench_user
    keys = seed_world.key_pool()
    await seed_world.write_accounts(w, writer, ids, rng, accounts_n, keys)
    n_communities = max(2, accounts_n // 200)
    await seed_world.write_communities(w, writer, ids, rng, n_communities, keys)
    notify = seed_world.notifier(w, writer, ids)
    await seed_world.write_follows(w, writer, ids, rng, follows, notify)
    await seed_posts.flush_notifications(w, writer)
    await writer.commit()
    say(
        f"{len(w.locals):,} local and {len(w.remotes):,} remote accounts on {seed_world.HOSTS} "
        f"hosts, {len(w.communities)} communities, {w.follows:,} follows "
        f"({time.monotonic() - started:.1f} s)"
    )
    maker = seed_posts.PostMaker(w, writer, ids, rng, statuses, notify)
    await maker.run()
    favourites = await seed_posts.write_favourites(maker, statuses // 2)
    say(f"{favourites:,} favourites ({time.monotonic() - started:.1f} s); counters …")
    await seed_posts.write_counters(writer)
    await writer.resume_triggers(COUNTED)
    await writer.finish(TABLES)
    await recount(settings)
    feeds, feed_rows = await build_feeds(settings.database_url, say, started)
    took = time.monotonic() - started
    busiest = w.locals[1]  # the skewed choice favours the first local members
    made = {
        "url": settings.url,
        "database_url": database_url or "",
        "user": BENCH_USER,
        "password": BENCH_PASSWORD,
        "profile": w.name[busiest],
        "community": w.communities[w.bench_communities[0]][1],
        "accounts": {"local": len(w.locals), "remote": len(w.remotes), "hosts": seed_world.HOSTS},
        "communities": len(w.communities),
        "statuses": statuses,
        **maker.counts,
        "favourites": favourites,
        "home_feeds": feeds,
        "home_feed_rows": feed_rows,
        "follows": w.follows,
        "bench_follows": len(w.bench_follows),
        "bench_communities": len(w.bench_communities),
        "bench_remote_followers": len(w.bench_followers),
        "bench_follower_hosts": seed_world.FOLLOWER_HOSTS,
        "notifications": ids.next["notifications"] - 1,
        "seconds": round(took, 1),
    }
    (Path(data_dir) / "bench.json").write_text(json.dumps(made, indent=2) + "\n")
    return made


def run_after(command: str, data_dir: Path, made: dict[str, Any]) -> None:
    """``koers COMMAND`` on the seeded data (what the bulk rows bypassed: feeds, caches …)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env |= {"PYTHONPATH": str(ROOT), "KOERS_DATA_DIR": str(data_dir), "KOERS_URL": made["url"]}
    if made["database_url"]:
        env["KOERS_DATABASE_URL"] = made["database_url"]
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "server.cli", *shlex.split(command)], env=env, check=True)
    print(f"koers {command}: {time.monotonic() - started:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", type=Path, help="the data directory to write (created)")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--statuses", type=int, default=1_000_000)
    parser.add_argument("--follows", type=int, default=500, help="people bench follows")
    parser.add_argument("--database-url", help="seed this PostgreSQL database instead of SQLite")
    parser.add_argument("--url", default=DEFAULT_URL, help="the instance URL ids are made with")
    parser.add_argument("--seed", type=int, default=13, help="random seed")
    parser.add_argument(
        "--after",
        action="append",
        default=[],
        metavar="COMMAND",
        help="a koers command to run on the data once written, e.g. one that rebuilds "
        "precomputed feeds or counters (repeatable)",
    )
    args = parser.parse_args()
    made = asyncio.run(
        seed(
            args.dir,
            accounts_n=args.accounts,
            statuses=args.statuses,
            follows=args.follows,
            database_url=args.database_url,
            url=args.url,
            random_seed=args.seed,
        )
    )
    for command in args.after:
        run_after(command, args.dir, made)
    print("made:", json.dumps({k: v for k, v in made.items() if k not in ("password",)}))
    db = f" KOERS_DATABASE_URL={made['database_url']}" if made["database_url"] else ""
    print(
        f"seeded in {made['seconds']} s; serve with: KOERS_DATA_DIR={args.dir}{db} "
        f"KOERS_URL={made['url']} koers serve   (log in as bench / {BENCH_PASSWORD})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
