"""The administrators' dashboard: how the organisation as a whole is doing, in totals only.

Counts over the local communities and members for a window of whole weeks (``insights.window``),
against the same number of weeks just before (``insights.previous_window``): active members
(local people who posted, replied, boosted or liked), posts and results; and the state of today:
communities, purposes in force, decisions open. No content and no names: every number is a count,
direct messages never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import purpose_phases
from server.services.insights import DEFAULT_WEEKS, previous_window, window
from server.storage import schema as t


@dataclass(frozen=True, slots=True)
class OrgPeriod:
    """Organisation-wide totals of one window."""

    since: datetime
    until: datetime
    active_members: int
    posts: int
    results: int


@dataclass(frozen=True, slots=True)
class CommunityLine:
    """One local community on the dashboard."""

    handle: str
    name: str
    members: int
    active: int  # members who acted in the current window
    posts: int  # posts to the community in the current window
    phase: str  # the purpose process's phase (``purpose_phases.PHASES``)
    has_purpose: bool
    decision_open: bool


@dataclass(frozen=True, slots=True)
class OrgInsights:
    """Everything the administrators' dashboard shows."""

    weeks: int
    current: OrgPeriod
    previous: OrgPeriod
    members: int  # local people with an account
    communities: list[CommunityLine]

    @property
    def purposes_in_force(self) -> int:
        return sum(1 for c in self.communities if c.has_purpose and c.phase == "in_force")

    @property
    def decisions_open(self) -> int:
        return sum(1 for c in self.communities if c.decision_open)


def _counted(since: datetime, until: datetime) -> sa.ColumnElement[bool]:
    p = t.posts
    return sa.and_(
        p.c.local.is_(True),
        p.c.deleted_at.is_(None),
        p.c.audience != "direct",
        p.c.created_at >= since,
        p.c.created_at <= until,
    )


async def _active(conn: AsyncConnection, since: datetime, until: datetime) -> set[int]:
    """Local people who posted (or boosted) or liked in the window."""
    p, f, a = t.posts, t.favourites, t.actors
    local_person = sa.and_(a.c.domain.is_(None), a.c.kind == "person")
    authors = sa.select(p.c.author_id).join(a, a.c.id == p.c.author_id)
    likers = sa.select(f.c.actor_id).join(a, a.c.id == f.c.actor_id)
    rows = await conn.execute(
        sa.union(
            authors.where(local_person, _counted(since, until)),
            likers.where(local_person, f.c.created_at >= since, f.c.created_at <= until),
        )
    )
    return {int(r[0]) for r in rows}


async def _period(conn: AsyncConnection, since: datetime, until: datetime) -> OrgPeriod:
    p = t.posts
    original = sa.and_(_counted(since, until), p.c.reblog_of_id.is_(None))
    posts = await conn.scalar(sa.select(sa.func.count()).select_from(p).where(original))
    results = await conn.scalar(
        sa.select(sa.func.count()).select_from(p).where(original, p.c.kind == "result")
    )
    return OrgPeriod(
        since, until, len(await _active(conn, since, until)), int(posts or 0), int(results or 0)
    )


async def _communities(
    conn: AsyncConnection, active: set[int], since: datetime, until: datetime
) -> list[CommunityLine]:
    c, a, fo, p = t.communities, t.actors, t.follows, t.posts
    rows = (
        await conn.execute(
            sa.select(c.c.id, c.c.name, a.c.id.label("actor_id"), a.c.username)
            .join(a, a.c.id == c.c.actor_id)
            .where(c.c.local.is_(True))
            .order_by(sa.func.lower(c.c.name))
        )
    ).all()
    follower_rows = await conn.execute(
        sa.select(fo.c.target_id, fo.c.follower_id)
        .join(c, c.c.actor_id == fo.c.target_id)
        .where(fo.c.state == "accepted", c.c.local.is_(True))
    )
    by_target: dict[int, set[int]] = {}
    for target, follower in follower_rows:
        by_target.setdefault(int(target), set()).add(int(follower))
    post_counts: dict[int, int] = dict(
        (
            await conn.execute(
                sa.select(p.c.community_id, sa.func.count())
                .where(_counted(since, until), p.c.reblog_of_id.is_(None))
                .group_by(p.c.community_id)
            )
        ).all()
    )
    with_purpose = {
        int(r[0]) for r in await conn.execute(sa.select(t.purpose_versions.c.community_id))
    }
    open_decisions = {
        int(r[0])
        for r in await conn.execute(
            sa.select(t.purpose_decisions.c.community_id).where(
                t.purpose_decisions.c.closed_at.is_(None)
            )
        )
    }
    lines = []
    for r in rows:
        people = by_target.get(int(r.actor_id), set())
        lines.append(
            CommunityLine(
                handle=r.username,
                name=r.name,
                members=len(people),
                active=len(people & active),
                posts=int(post_counts.get(r.id, 0)),
                phase=(await purpose_phases.current(conn, r.id)).phase,
                has_purpose=r.id in with_purpose,
                decision_open=r.id in open_decisions,
            )
        )
    return lines


async def organisation_insights(
    conn: AsyncConnection, *, weeks: int = DEFAULT_WEEKS, until: datetime | None = None
) -> OrgInsights:
    """The dashboard for ``weeks`` whole weeks up to ``until`` (now); for administrators only
    (the caller checks)."""
    since, until_, _ = window(weeks, until)
    prev_since, prev_until = previous_window(weeks, since)
    members = await conn.scalar(
        sa.select(sa.func.count()).select_from(t.users).where(t.users.c.state == "active")
    )
    return OrgInsights(
        weeks=weeks,
        current=await _period(conn, since, until_),
        previous=await _period(conn, prev_since, prev_until),
        members=int(members or 0),
        communities=await _communities(conn, await _active(conn, since, until_), since, until_),
    )
