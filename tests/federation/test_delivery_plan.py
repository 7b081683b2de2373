"""The delivery worker's claim walks ``ix_deliveries_due`` in order: it neither sorts the queue
nor reads the rows already sent (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``), on an
empty and a filled queue, and claims the oldest due rows first."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from federation.delivery import due
from server import clock
from server.storage import schema as t
from server.storage.db import Database
from tests.server.test_timeline_plans import _explain


def _fill(conn: sa.Connection, n: int) -> None:
    """``n`` deliveries of one activity: most sent, the rest due at different times."""
    now = clock.now()
    actor = conn.execute(
        t.actors.insert()
        .values(
            uri="https://due.test/a", kind="person", username="a", created_at=now, updated_at=now
        )
        .returning(t.actors.c.id)
    ).scalar_one()
    activity = conn.execute(
        t.activities.insert()
        .values(
            uri="https://due.test/a/1",
            direction="out",
            type="Create",
            actor_id=actor,
            document={},
            state="done",
            created_at=now,
        )
        .returning(t.activities.c.id)
    ).scalar_one()
    rows = [
        {
            "activity_id": activity,
            "inbox": f"https://h{i}.test/inbox",
            "host": f"h{i}.test",
            "state": "sent" if i % 4 else "new",
            "next_attempt_at": now - timedelta(seconds=i % 97),
            "created_at": now,
        }
        for i in range(n)
    ]
    if rows:
        conn.execute(t.deliveries.insert(), rows)


@pytest.mark.parametrize("rows", [0, 4000])
async def test_the_claim_walks_the_due_index(new_database_url, backend: str, rows: int) -> None:
    db = Database(await new_database_url())
    try:
        await db.write(_fill, rows)
        if rows:
            async with db.write() as conn:  # statistics as PRAGMA optimize would gather them
                await conn.exec_driver_sql("ANALYZE")
        plan = await db.read(_explain, due(clock.now()), {})
        async with db.read() as conn:
            claimed = [r.id for r in await conn.execute(due(clock.now()))]
            expected = (
                await conn.execute(
                    sa.select(t.deliveries.c.id, t.deliveries.c.next_attempt_at).where(
                        t.deliveries.c.state == "new"
                    )
                )
            ).all()
    finally:
        await db.close()
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    if backend == "sqlite":
        assert "ix_deliveries_due" in plan, plan
    oldest = [r.id for r in sorted(expected, key=lambda r: (r.next_attempt_at, r.id))]
    assert claimed == oldest[: len(claimed)] and len(claimed) == min(len(oldest), 100)
