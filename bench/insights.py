"""Benchmark: computing community insights over the generated 300-member community.

    python bench/insights.py [--runs N] [--database-url URL]

Builds the community of ``tests/server/insights_data.py`` (300 members, about 2,500 interactions)
in a fresh SQLite database in a temporary directory (or the PostgreSQL database given, which must
be empty), then times ``services.insights.community_insights`` (queries + graph + PageRank +
profiles) and prints the median and the slowest run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.config import load_settings  # noqa: E402
from server.context import Context  # noqa: E402
from server.services import accounts, insights  # noqa: E402
from server.storage.db import Database, migrate  # noqa: E402
from server.visibility import Viewer  # noqa: E402
from tests.server import insights_data as gen  # noqa: E402


async def run(runs: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="koers-bench-insights-") as tmp:
        settings = load_settings(
            env={},
            url="http://127.0.0.1:9",
            data_dir=tmp,
            database_url=database_url,
            secret="bench-" + "x" * 32,
        )
        db = Database(settings.database_url)
        try:
            await migrate(db)
            ctx = Context(db, settings)
            ctx.organization_id = await accounts.ensure_organization(db, settings)
            boss = await accounts.create_account(
                db,
                settings,
                username="boss",
                email="boss@example.test",
                password="bench-password-1",
            )
            started = time.perf_counter()
            world = await gen.build(ctx, "boss", boss.actor_id)
            built = time.perf_counter() - started
            viewer = Viewer(actor_id=boss.actor_id, local=True)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                async with db.read() as conn:
                    data = await insights.community_insights(ctx, conn, viewer, world.community_id)
                times.append(time.perf_counter() - t0)
        finally:
            await db.close()
    backend = "postgresql" if database_url and database_url.startswith("postgres") else "sqlite"
    print(
        f"insights ({backend}): {len(data.people)} members, {world.interactions} interactions "
        f"(generated in {built:.1f} s)"
    )
    print(
        f"  community_insights: median {statistics.median(times) * 1000:.0f} ms, "
        f"slowest {max(times) * 1000:.0f} ms over {runs} runs; leaders: "
        + ", ".join(p.actor.username for p in data.leaders)
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)"
    )
    args = parser.parse_args()
    asyncio.run(run(max(1, args.runs), args.database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
