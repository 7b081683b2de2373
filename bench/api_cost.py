"""CPU time and statements of the status API reads in one process, with no HTTP client or
server around them: each request is handed to the application as aiohttp would hand it over.

    python bench/api_cost.py DIR [--rounds N] [--repeat R] [--profile FILE] [--dump DIR2] [PATH ...]

On a directory written by ``bench/seed.py`` (SQLite), signed in as ``bench`` by a bearer token
made for the run, it prints per path the CPU ms per request (``time.process_time``: every thread
of this process, so other load on the machine counts less; the cost of building the mocked
request, measured alone, taken off; the least of ``--repeat`` loops) and the statements SQLite ran per request (traced in
``sqlite3``, so statements that bypass SQLAlchemy count too; transactions' ends not counted). The
default paths are the home and public timelines, ``bench``'s profile statuses and
``verify_credentials``. ``--profile FILE`` writes a cProfile of the loops (the event loop's
thread; run the units inline with ``--inline`` to see them too); ``--dump DIR2`` writes each
answer's body, to compare two versions byte for byte.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import secrets
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import make_mocked_request  # noqa: E402

from bench import counting  # noqa: E402
from server import clock  # noqa: E402
from server.app import create_app  # noqa: E402
from server.config import load_settings  # noqa: E402
from server.services.oauth import hash_secret  # noqa: E402
from server.storage import schema as t  # noqa: E402
from server.storage.db import Database  # noqa: E402

# [SQLAlchemy statements, transactions, statements SQLite ran] (``bench.counting``)
_COUNTS = [0, 0, 0]
counting.install(_COUNTS)  # type: ignore[arg-type]  # a list counts as well as the shared file


def _make_token(conn: sa.Connection) -> tuple[str, int]:
    """A read token of ``bench`` (and bench's actor id)."""
    user = conn.execute(
        sa.select(t.users.c.id, t.users.c.actor_id)
        .join(t.actors, t.actors.c.id == t.users.c.actor_id)
        .where(t.actors.c.username == "bench", t.actors.c.domain.is_(None))
    ).one()
    app_id = conn.execute(
        t.oauth_apps.insert().values(
            name="api_cost",
            client_id=secrets.token_urlsafe(16),
            client_secret=secrets.token_urlsafe(16),
            redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            scopes="read",
            created_at=clock.now(),
        )
    ).inserted_primary_key[0]
    token = secrets.token_urlsafe(32)
    conn.execute(
        t.oauth_tokens.insert().values(
            token_hash=hash_secret(token),
            app_id=app_id,
            user_id=user.id,
            scopes="read",
            created_at=clock.now(),
        )
    )
    return token, user.actor_id


class _Loopback:
    """A transport whose peer is loopback, as the benchmark's clients are."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


def _mocked(app: web.Application, path: str, token: str) -> web.Request:
    headers = {"Authorization": f"Bearer {token}"}
    return make_mocked_request("GET", path, headers=headers, app=app, transport=_Loopback())


async def _request(app: web.Application, path: str, token: str) -> web.StreamResponse:
    return await app._handle(_mocked(app, path, token))


def _cpu_ms(fn: Any, rounds: int) -> float:
    started = time.process_time()
    for _ in range(rounds):
        fn()
    return (time.process_time() - started) / rounds * 1000


async def main(args: argparse.Namespace) -> None:
    settings = load_settings(None, data_dir=str(args.data), run_workers=False, rate_limit=False)
    db = Database(settings.database_url)
    app = create_app(settings, db=db, run_migrations=False)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        token, actor_id = await db.write(_make_token)
        paths = args.paths or [
            "/api/v1/timelines/home?limit=40",
            "/api/v1/timelines/public?limit=40",
            f"/api/v1/accounts/{actor_id}/statuses?limit=40",
            "/api/v1/accounts/verify_credentials",
        ]
        profiler = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not waits
        for n, path in enumerate(paths):
            first = await _request(app, path, token)
            assert first.status == 200, (path, first.status, getattr(first, "text", ""))
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                body = getattr(first, "body", b"") or b""
                (args.dump / f"{n}.json").write_bytes(bytes(body))
            for _ in range(20):  # warm: caches filled, statements compiled
                await _request(app, path, token)
            build = functools.partial(_mocked, app, path, token)
            mocked = min(_cpu_ms(build, args.rounds) for _ in range(3))
            cpus = []
            for _ in range(args.repeat):
                _COUNTS[:] = [0, 0, 0]
                if profiler is not None:
                    profiler.enable()
                started = time.process_time()
                for _ in range(args.rounds):
                    await _request(app, path, token)
                cpus.append((time.process_time() - started) / args.rounds * 1000)
                if profiler is not None:
                    profiler.disable()
            # each transaction's end is a statement SQLite runs that SQLAlchemy does not count
            stmts = (_COUNTS[2] - _COUNTS[1]) / args.rounds
            cpu = min(cpus)
            print(
                f"{path:56} {cpu - mocked:6.3f} ms CPU ({cpu:6.3f} with the mocked request)"
                f"  {stmts:5.1f} stmts"
            )
        if profiler is not None:
            profiler.dump_stats(args.profile)
    finally:
        await runner.cleanup()
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a directory written by bench/seed.py (SQLite)")
    parser.add_argument("paths", nargs="*", help="paths to request (default: the status reads)")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="loops per path; the least counts")
    parser.add_argument("--profile", help="write a cProfile of the measured loops here")
    parser.add_argument("--dump", type=Path, help="write each answer's body here (N.json)")
    asyncio.run(main(parser.parse_intermixed_args()))
