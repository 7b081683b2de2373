"""The denormalised counters: what they should be (a recount), what they are, and a rebuild.

``account_stats`` (statuses, followers, following, last status time) and ``post_reply_counts``
(undeleted replies by audience) are kept by database triggers in the transaction of every change
to ``posts`` and ``follows`` (see the migration that made them). The recount here is their
definition; ``rebuild`` replaces the stored counters with it, a batch of ids per transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from server.storage import schema as t
from server.storage.db import Database

BATCH = 5000

# (actor_id) -> (statuses, followers, following, last status time)
AccountCounts = dict[int, tuple[int, int, int, datetime | None]]
# (post_id, audience) -> undeleted replies
ReplyCounts = dict[tuple[int, str], int]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a rebuild is: ``done`` of ``total`` rows of ``what``."""

    what: str
    done: int
    total: int


def _alive(posts: sa.TableClause = t.posts) -> sa.ColumnElement[bool]:
    return posts.c.deleted_at.is_(None)


def _account_recount(lo: int, hi: int) -> sa.Select:
    a, p, f = t.actors, t.posts, t.follows
    in_range = a.c.id.between(lo, hi)

    def count(q: sa.Select) -> sa.ScalarSelect:
        return q.scalar_subquery()

    return sa.select(
        a.c.id,
        count(sa.select(sa.func.count()).where(p.c.author_id == a.c.id, _alive())),
        count(sa.select(sa.func.count()).where(f.c.target_id == a.c.id, f.c.state == "accepted")),
        count(sa.select(sa.func.count()).where(f.c.follower_id == a.c.id, f.c.state == "accepted")),
        count(sa.select(sa.func.max(p.c.created_at)).where(p.c.author_id == a.c.id, _alive())),
    ).where(in_range)


def _reply_recount(lo: int, hi: int) -> sa.Select:
    p = t.posts
    return (
        sa.select(p.c.in_reply_to_id, p.c.audience, sa.func.count())
        .where(p.c.in_reply_to_id.between(lo, hi), _alive())
        .group_by(p.c.in_reply_to_id, p.c.audience)
    )


def _everything(conn: sa.Connection, table: sa.Table) -> tuple[int, int]:
    lo, hi = conn.execute(sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id))).one()
    return int(lo or 0), int(hi or 0)


def recount(conn: sa.Connection) -> tuple[AccountCounts, ReplyCounts]:
    """What the counters should hold, counted from ``posts`` and ``follows`` (zeros left out)."""
    lo, hi = _everything(conn, t.actors)
    accounts = {
        r[0]: (int(r[1]), int(r[2]), int(r[3]), r[4])
        for r in conn.execute(_account_recount(lo, hi))
        if r[1] or r[2] or r[3]
    }
    lo, hi = _everything(conn, t.posts)
    replies = {(r[0], r[1]): int(r[2]) for r in conn.execute(_reply_recount(lo, hi))}
    return accounts, replies


def stored(conn: sa.Connection) -> tuple[AccountCounts, ReplyCounts]:
    """What the counters hold (zeros left out), to compare with ``recount``."""
    s, r = t.account_stats, t.post_reply_counts
    accounts = {
        row.actor_id: (
            row.statuses_count,
            row.followers_count,
            row.following_count,
            row.last_status_at,
        )
        for row in conn.execute(sa.select(s))
        if row.statuses_count or row.followers_count or row.following_count
    }
    replies = {
        (row.post_id, row.audience): row.replies
        for row in conn.execute(sa.select(r).where(r.c.replies != 0))
    }
    return accounts, replies


def _rebuild_accounts(conn: sa.Connection, lo: int, hi: int) -> int:
    s = t.account_stats
    conn.execute(s.delete().where(s.c.actor_id.between(lo, hi)))
    cols = ["actor_id", "statuses_count", "followers_count", "following_count", "last_status_at"]
    res = conn.execute(s.insert().from_select(cols, _account_recount(lo, hi)))
    return int(res.rowcount or 0)


def _rebuild_replies(conn: sa.Connection, lo: int, hi: int) -> int:
    r = t.post_reply_counts
    conn.execute(r.delete().where(r.c.post_id.between(lo, hi)))
    res = conn.execute(
        r.insert().from_select(["post_id", "audience", "replies"], _reply_recount(lo, hi))
    )
    return int(res.rowcount or 0)


async def rebuild(
    db: Database, progress: Callable[[Progress], None] | None = None, *, batch: int = BATCH
) -> tuple[int, int]:
    """Recount every counter, ``batch`` ids per write transaction (a change made meanwhile is
    counted by its trigger, before or after its batch). Returns (accounts, posts) walked."""
    walked = []
    for table, step, what in (
        (t.actors, _rebuild_accounts, "accounts"),
        (t.posts, _rebuild_replies, "posts"),
    ):
        lo, hi = await db.read(_everything, table)
        total = hi - lo + 1 if hi else 0
        for start in range(lo, hi + 1, batch):
            await db.write(step, start, min(start + batch - 1, hi))
            if progress is not None:
                progress(Progress(what, min(start + batch, hi + 1) - lo, total))
        walked.append(total)
    return walked[0], walked[1]
