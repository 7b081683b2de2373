"""Health of remote hosts for delivery: failures counted per day, unavailable hosts probed rarely.

A host failing on ``UNAVAILABLE_AFTER_DAYS`` different days is marked unavailable; its deliveries
are skipped, except one probe every ``PROBE_INTERVAL``; any success makes it available again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.storage import schema as t
from server.storage.rows import dialect_insert

UNAVAILABLE_AFTER_DAYS = 3
PROBE_INTERVAL = timedelta(hours=6)


async def _ensure(conn: AsyncConnection, host: str) -> None:
    insert = dialect_insert(conn.dialect.name)
    await conn.execute(
        insert(t.hosts).values(domain=host).on_conflict_do_nothing(index_elements=["domain"])
    )


async def states(conn: AsyncConnection, hosts: Iterable[str]) -> dict[str, Any]:
    """The ``hosts`` rows of the given hosts, by domain (hosts never seen are absent)."""
    names = list(set(hosts))
    if not names:
        return {}
    rows = await conn.execute(sa.select(t.hosts).where(t.hosts.c.domain.in_(names)))
    return {r.domain: r for r in rows}


# built once: a cycle's answering hosts as one expanding parameter
_SUCCEEDED = (
    sa.update(t.hosts)
    .where(t.hosts.c.domain.in_(sa.bindparam("names", expanding=True)))
    .values(
        consecutive_failures=0,
        first_failure_at=None,
        failure_days=0,
        unavailable=False,
        probe_at=None,
        last_success_at=sa.bindparam("now"),
    )
)


async def record_successes(conn: AsyncConnection, hosts: Iterable[str], now: datetime) -> None:
    """The hosts answered at ``now``: each is available again and its failure count starts
    over (one statement for all)."""
    names = sorted(set(hosts))
    if names:
        await conn.execute(_SUCCEEDED, {"names": names, "now": now})


async def record_failure(
    conn: AsyncConnection, host: str, error: str, now: datetime, *, count: int = 1
) -> None:
    """Count ``count`` failed deliveries (of one moment ``now``); a new calendar day of failures
    may make the host unavailable."""
    await _ensure(conn, host)
    row = (await conn.execute(sa.select(t.hosts).where(t.hosts.c.domain == host))).one()
    last = clock.aware(row.last_failure_at)
    new_day = last is None or last.date() != now.date()
    days = row.failure_days + (1 if new_day else 0)
    unavailable = row.unavailable or days >= UNAVAILABLE_AFTER_DAYS
    await conn.execute(
        sa.update(t.hosts)
        .where(t.hosts.c.domain == host)
        .values(
            consecutive_failures=row.consecutive_failures + count,
            first_failure_at=row.first_failure_at or now,
            failure_days=days,
            unavailable=unavailable,
            last_failure_at=now,
            last_error=error[:1000],
            probe_at=now + PROBE_INTERVAL if unavailable else None,
        )
    )


async def set_software(conn: AsyncConnection, host: str, software: str) -> None:
    """Remember what software ``host`` runs (its NodeInfo ``software.name``; '' when unknown)."""
    await _ensure(conn, host)
    await conn.execute(
        sa.update(t.hosts).where(t.hosts.c.domain == host).values(software=software[:100])
    )
