"""What an account shows beyond its actor row (follower, following and post counts, the last
post, competencies), and the per-viewer facts a status needs (muted threads, hidden poll totals),
read in batches: a fixed number of queries for a whole answer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t


@dataclass(slots=True)
class AccountExtras:
    """What an Account shows beyond the actor row: counts and competencies."""

    followers_count: int = 0
    following_count: int = 0
    statuses_count: int = 0
    last_status_at: datetime | None = None
    competencies: list[tuple[str, str | None]] = field(default_factory=list)


async def account_extras(conn: AsyncConnection, ids: set[int]) -> dict[int, AccountExtras]:
    """Follower/following/status counts and competencies for these actors."""
    out = {i: AccountExtras() for i in ids}
    if not ids:
        return out
    f = t.follows
    for r in await conn.execute(
        sa.select(f.c.target_id, sa.func.count())
        .where(f.c.target_id.in_(ids), f.c.state == "accepted")
        .group_by(f.c.target_id)
    ):
        out[r[0]].followers_count = r[1]
    for r in await conn.execute(
        sa.select(f.c.follower_id, sa.func.count())
        .where(f.c.follower_id.in_(ids), f.c.state == "accepted")
        .group_by(f.c.follower_id)
    ):
        out[r[0]].following_count = r[1]
    p = t.posts
    for r in await conn.execute(
        sa.select(p.c.author_id, sa.func.count(), sa.func.max(p.c.created_at))
        .where(p.c.author_id.in_(ids), p.c.deleted_at.is_(None))
        .group_by(p.c.author_id)
    ):
        out[r[0]].statuses_count = r[1]
        out[r[0]].last_status_at = r[2]
    comps: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for r in await conn.execute(
        sa.select(t.competencies.c.actor_id, t.competencies.c.name, t.competencies.c.level)
        .where(t.competencies.c.actor_id.in_(ids))
        .order_by(t.competencies.c.name)
    ):
        comps[r.actor_id].append((r.name, r.level))
    for actor_id, entries in comps.items():
        out[actor_id].competencies = entries
    return out


async def muted_threads(conn: AsyncConnection, actor_id: int, roots: set[int]) -> set[int]:
    """Which of the thread roots ``roots`` ``actor_id`` muted."""
    return {
        r[0]
        for r in await conn.execute(
            sa.select(t.conversation_mutes.c.thread_root_id).where(
                t.conversation_mutes.c.actor_id == actor_id,
                t.conversation_mutes.c.thread_root_id.in_(roots),
            )
        )
    }


async def polls_with_hidden_totals(conn: AsyncConnection, post_ids: list[int]) -> set[int]:
    """Which of the poll posts ``post_ids`` hide their totals until the poll ends."""
    if not post_ids:
        return set()
    return {
        r[0]
        for r in await conn.execute(
            sa.select(t.polls.c.post_id).where(
                t.polls.c.post_id.in_(post_ids), t.polls.c.hide_totals.is_(True)
            )
        )
    }
