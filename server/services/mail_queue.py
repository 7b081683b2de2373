"""The outgoing mail queue: a row per message, written in the transaction of what caused it.

States: ``new → sent | failed``. The worker (``server/mail_worker.py``) leases due rows (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so several worker processes share the queue), sends each and
records the outcome here. A temporary refusal (an SMTP 4xx, no connection) is retried after 30 s,
then at growing intervals up to an hour, for three days; a permanent one (5xx) fails at once.
A row is marked sent in the same step that ends its lease, so a restart never sends it again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.storage import schema as t
from server.storage.db import Database
from server.storage.rows import inserted_id

LEASE = timedelta(minutes=2)
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
GIVE_UP_AFTER = timedelta(days=3)
KEEP_FINISHED = timedelta(days=14)


async def enqueue(
    conn: AsyncConnection,
    template: str,
    *,
    user_id: int | None = None,
    to: str | None = None,
    params: dict[str, Any] | None = None,
) -> int:
    """Queue a message: to ``to``, or to the member's address when it is sent."""
    if user_id is None and to is None:
        raise ValueError("a message needs a member or an address")
    now = clock.now()
    res = await conn.execute(
        t.mail_outbox.insert().values(
            user_id=user_id,
            to_address=to,
            template=template,
            params=params or {},
            next_attempt_at=now,
            created_at=now,
        )
    )
    return inserted_id(res)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    o = t.mail_outbox
    return sa.and_(
        o.c.state == "new",
        o.c.next_attempt_at <= now,
        sa.or_(o.c.locked_until.is_(None), o.c.locked_until < now),
    )


async def claim(db: Database, *, limit: int = 10) -> list[sa.Row]:
    """Lease up to ``limit`` due messages; their rows.

    Nothing is written when nothing is due. On SQLite the write transaction begins with its
    write (a read first, upgraded later, could deadlock with another connection's writer).
    """
    now = clock.now()
    o = t.mail_outbox
    async with db.read() as conn:
        if (await conn.execute(sa.select(o.c.id).where(_due(now)).limit(1))).first() is None:
            return []
    lease = now + LEASE
    async with db.write() as conn:
        if db.is_sqlite:
            due = sa.select(o.c.id).where(_due(now)).order_by(o.c.id).limit(limit)
            await conn.execute(o.update().where(o.c.id.in_(due)).values(locked_until=lease))
            return list(
                await conn.execute(
                    sa.select(o)
                    .where(o.c.locked_until == lease, o.c.state == "new")
                    .order_by(o.c.id)
                )
            )
        q = (
            sa.select(o)
            .where(_due(now))
            .order_by(o.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list(await conn.execute(q))
        if rows:
            await conn.execute(
                o.update().where(o.c.id.in_([r.id for r in rows])).values(locked_until=lease)
            )
    return rows


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try (1, 2, …): 30 s, 60 s, 120 s … 1 h."""
    return timedelta(
        seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    )


async def finish(db: Database, message_id: int, outcome: str, *, error: str | None = None) -> str:
    """Record a try: ``sent``, ``retry`` (temporary) or ``failed`` (permanent); the new state."""
    o = t.mail_outbox
    now = clock.now()
    async with db.read() as conn:  # the row is ours (leased): read it, then write alone
        row = (await conn.execute(sa.select(o).where(o.c.id == message_id))).first()
    if row is None:
        return "gone"
    values: dict[str, Any] = {
        "attempts": row.attempts + 1,
        "locked_until": None,
        "last_error": error,
    }
    if outcome == "sent":
        values.update(state="sent", sent_at=now)
    elif outcome == "retry" and clock.aware(row.created_at) + GIVE_UP_AFTER > now:
        values["next_attempt_at"] = now + retry_delay(row.attempts + 1)
    else:
        values["state"] = "failed"
    async with db.write() as conn:
        await conn.execute(o.update().where(o.c.id == message_id).values(**values))
    return str(values.get("state", "new"))


async def next_due(db: Database) -> float | None:
    """Seconds until the next queued message is due (0 when one is due now), None when none waits."""
    o = t.mail_outbox
    async with db.read() as conn:
        at = (
            await conn.execute(
                sa.select(sa.func.min(o.c.next_attempt_at)).where(o.c.state == "new")
            )
        ).scalar()
    if at is None:
        return None
    return max(0.0, (clock.aware(at) - clock.now()).total_seconds())


async def purge(db: Database, *, older_than: timedelta = KEEP_FINISHED) -> int:
    """Forget messages that were sent or gave up more than ``older_than`` ago; how many."""
    o = t.mail_outbox
    async with db.write() as conn:
        res = await conn.execute(
            o.delete().where(
                o.c.state.in_(("sent", "failed")), o.c.created_at < clock.now() - older_than
            )
        )
    return int(res.rowcount or 0)
