"""What an account shows beyond its actor row (follower, following and post counts and the last
post, read from the denormalised ``account_stats``; competencies), and the per-viewer facts a
status needs (muted threads, hidden poll totals), read in batches over statements built once: a
fixed number of queries for a whole answer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t
from server.storage.prepared import IDS, ME, rows


@dataclass(slots=True)
class AccountExtras:
    """What an Account shows beyond the actor row: counts and competencies."""

    followers_count: int = 0
    following_count: int = 0
    statuses_count: int = 0
    last_status_at: datetime | None = None
    competencies: list[tuple[str, str | None]] = field(default_factory=list)


# Kept by triggers in the transaction of every change to posts and follows (``services.counters``).
_STATS = sa.select(
    t.account_stats.c.actor_id,
    t.account_stats.c.statuses_count,
    t.account_stats.c.followers_count,
    t.account_stats.c.following_count,
    t.account_stats.c.last_status_at,
).where(t.account_stats.c.actor_id.in_(IDS))
_COMPETENCIES = (
    sa.select(t.competencies.c.actor_id, t.competencies.c.name, t.competencies.c.level)
    .where(t.competencies.c.actor_id.in_(IDS))
    .order_by(t.competencies.c.name)
)
_MUTED_THREADS = sa.select(t.conversation_mutes.c.thread_root_id).where(
    t.conversation_mutes.c.actor_id == ME, t.conversation_mutes.c.thread_root_id.in_(IDS)
)
_HIDDEN_TOTALS = sa.select(t.polls.c.post_id).where(
    t.polls.c.post_id.in_(IDS), t.polls.c.hide_totals.is_(True)
)


def account_extras_in(conn: sa.Connection, ids: set[int]) -> dict[int, AccountExtras]:
    """Follower/following/status counts and competencies for these actors (a unit of work)."""
    out = stats_in(conn, ids)
    for actor_id, entries in competencies_in(conn, ids).items():
        out[actor_id].competencies = entries
    return out


def stats_in(conn: sa.Connection, ids: set[int]) -> dict[int, AccountExtras]:
    """Follower/following/status counts and the last post of these actors, without competencies
    (a unit-of-work function)."""
    out = {i: AccountExtras() for i in ids}
    if not ids:
        return out
    for actor_id, statuses, followers, following, last_status_at in rows(
        conn, _STATS, {"ids": list(ids)}
    ):
        extras = out[actor_id]
        extras.statuses_count, extras.last_status_at = statuses, last_status_at
        extras.followers_count, extras.following_count = followers, following
    return out


def competencies_in(conn: sa.Connection, ids: set[int]) -> dict[int, list[tuple[str, str | None]]]:
    """The competencies (name, level) of these actors, by name; actors without any are absent."""
    comps: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    if ids:
        for r in conn.execute(_COMPETENCIES, {"ids": list(ids)}):
            comps[r.actor_id].append((r.name, r.level))
    return dict(comps)


async def account_extras(conn: AsyncConnection, ids: set[int]) -> dict[int, AccountExtras]:
    """``account_extras_in`` over an async connection."""
    return await conn.run_sync(account_extras_in, ids)


def muted_threads_in(conn: sa.Connection, actor_id: int, roots: list[int]) -> set[int]:
    """Which of the thread roots ``roots`` ``actor_id`` muted (a unit-of-work function)."""
    return {r[0] for r in rows(conn, _MUTED_THREADS, {"me": actor_id, "ids": roots})}


def hidden_totals_in(conn: sa.Connection, post_ids: list[int]) -> set[int]:
    """Which of the poll posts ``post_ids`` hide their totals until the poll ends."""
    if not post_ids:
        return set()
    return {r[0] for r in conn.execute(_HIDDEN_TOTALS, {"ids": post_ids})}
