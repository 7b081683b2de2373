"""Insights for community managers: who leads informally, who is quiet, and how activity trends.

Builds the interaction graph of one community over a window of whole weeks (UTC, Monday first) from
replies, mentions, boosts, likes, results credited (``result_contributors``), role claims
(``role_holders``) and roadmap status changes, then measures and classifies each person with the
documented rules of ``server.services.insights_graph``.

What counts, and privacy:
- only posts addressed to the community (``community_id``) or public posts by its members, never
  direct messages, and only posts the *viewer* may see (``server.visibility.posts_visible_to``):
  the numbers never rest on a post the viewer could not read, and no content is ever shown;
- roadmap changes only of items the viewer may see (``items_visible_to``);
- people are named only if they are members of the community and did not opt out
  (``insights_opt_outs``); everyone else (outsiders on any instance, opted-out members) takes part
  in the graph and the aggregate counts anonymously;
- only managers see the whole picture (``community_insights``); a member sees their own numbers
  (``my_insights``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import Forbidden, ValidationError
from server.i18n.messages import Message
from server.services import communities
from server.services.insights_graph import (
    PROFILES,
    Edge,
    PersonStats,
    Thresholds,
    classify,
    is_leader,
    measure,
)
from server.services.views import ActorView, actor_view
from server.storage import schema as t
from server.visibility import Viewer, items_visible_to, posts_visible_to

log = logging.getLogger(__name__)

DEFAULT_WEEKS = 12
MAX_WEEKS = 52
ACTIVITY_KINDS = ("posts", "reply", "mention", "boost", "like", "credit", "role", "roadmap")


@dataclass(slots=True)
class Person:
    """A named member with their numbers, profile and standing."""

    actor: ActorView
    stats: PersonStats
    is_manager: bool
    holds_role: bool
    leader: bool = False
    weekly: list[int] = field(default_factory=list)  # own activity per week

    @property
    def informal(self) -> bool:
        """Leads without a manager position or a role."""
        return not self.is_manager and not self.holds_role


@dataclass(frozen=True, slots=True)
class Period:
    """What happened in a window of weeks, in totals only: for comparing two periods."""

    since: datetime
    until: datetime
    totals: dict[str, int]  # per kind in ACTIVITY_KINDS
    active: int  # members who did anything


@dataclass(slots=True)
class Insights:
    """Everything the managers' insights page shows."""

    community_id: int
    weeks: list[datetime]
    until: datetime
    thresholds: Thresholds
    people: list[Person]  # named members, most central first
    opted_out: int
    outsiders: int  # non-members who interacted
    outsider_interactions: int
    profile_counts: dict[str, int]
    weekly_activity: dict[str, list[int]]  # per kind in ACTIVITY_KINDS, all participants
    weekly_profiles: dict[str, list[int]]  # interactions made by named members of each profile
    totals: dict[str, int] = field(default_factory=dict)
    active: int = 0  # members who did anything in the window
    previous: Period | None = None  # the same number of weeks just before

    @property
    def leaders(self) -> list[Person]:
        return [p for p in self.people if p.leader]

    @property
    def gone_quiet(self) -> list[Person]:
        """Active before (``OBSERVER_BELOW`` actions or more) but silent in the last quarter of the
        window (at least one week): often worth a personal word."""
        recent = max(1, len(self.weeks) // 4)
        if len(self.weeks) <= recent:
            return []
        return sorted(
            (
                p
                for p in self.people
                if sum(p.weekly[-recent:]) == 0
                and sum(p.weekly[:-recent]) >= self.thresholds.observer_below
            ),
            key=lambda p: (-sum(p.weekly), p.actor.username),
        )

    @property
    def quiet(self) -> list[Person]:
        return sorted(
            (p for p in self.people if p.stats.profile == "observer"),
            key=lambda p: (p.stats.activity, p.actor.username),
        )


@dataclass(frozen=True, slots=True)
class MyInsights:
    """A member's own profile (what they may always see about themselves)."""

    person: Person
    weeks: list[datetime]
    thresholds: Thresholds
    opted_out: bool
    weekly: list[int]


def window(weeks: int, until: datetime | None = None) -> tuple[datetime, datetime, list[datetime]]:
    """``weeks`` whole weeks ending with the current one: (since, until, the Mondays)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(Message("weeks: between 1 and %(num)s", num=MAX_WEEKS), field="weeks")
    until = clock.aware(until) or clock.now()
    monday = (until - timedelta(days=until.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    since = monday - timedelta(weeks=weeks - 1)
    return since, until, [since + timedelta(weeks=i) for i in range(weeks)]


def previous_window(weeks: int, since: datetime) -> tuple[datetime, datetime]:
    """The ``weeks`` whole weeks just before ``since``: (since, until)."""
    return since - timedelta(weeks=weeks), since - timedelta(microseconds=1)


def _acts(
    edges: list[Edge], activity: list[tuple[int, str, int]], weeks: int
) -> list[tuple[int, str, int]]:
    """Every action (actor, kind, week) in the window: interactions with others, posts, the rest."""
    acts = [(e.source, e.kind, e.week) for e in edges if e.source != e.target] + activity
    return [a for a in acts if 0 <= a[2] < weeks]


def _period(
    since: datetime, until: datetime, acts: list[tuple[int, str, int]], members: set[int]
) -> Period:
    totals = Counter(kind for _, kind, _ in acts)
    return Period(
        since=since,
        until=until,
        totals={k: totals[k] for k in ACTIVITY_KINDS},
        active=len({actor for actor, _, _ in acts} & members),
    )


def _week(at: datetime, since: datetime) -> int:
    return (clock.aware(at) - since).days // 7


async def _ids(conn: AsyncConnection, query: sa.Select) -> set[int]:
    return {int(r[0]) for r in await conn.execute(query)}


def _counted_posts(viewer: Viewer, community_id: int, member_ids: sa.Select) -> sa.Select:
    """Ids of posts that count: to the community, or public by a member; visible; not direct."""
    p = t.posts.alias("counted")
    return (
        sa.select(p.c.id)
        .where(
            sa.or_(
                p.c.community_id == community_id,
                sa.and_(p.c.audience == "public", p.c.author_id.in_(member_ids)),
            ),
            p.c.audience != "direct",
            p.c.reblog_of_id.is_(None),
            posts_visible_to(viewer, p),
        )
        .correlate(None)
    )


async def _edges(
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    member_ids: sa.Select,
    since: datetime,
    until: datetime,
) -> tuple[list[Edge], Counter, list[tuple[int, str, int]]]:
    """Interactions as edges, own posts per author, and (actor, kind, week) of role/roadmap activity."""
    counted = _counted_posts(viewer, community_id, member_ids).scalar_subquery()
    p, parent = t.posts, t.posts.alias("parent")
    in_window = sa.and_(p.c.created_at >= since, p.c.created_at <= until)
    edges: list[Edge] = []
    own: Counter = Counter()
    activity: list[tuple[int, str, int]] = []
    rows = await conn.execute(
        sa.select(
            p.c.author_id,
            p.c.created_at,
            parent.c.author_id.label("parent_author"),
            parent.c.id.label("pid"),
        )
        .select_from(
            p.outerjoin(
                parent, sa.and_(parent.c.id == p.c.in_reply_to_id, parent.c.id.in_(counted))
            )
        )
        .where(p.c.id.in_(counted), in_window)
    )
    for r in rows:
        week = _week(r.created_at, since)
        if r.pid is not None:
            edges.append(Edge(r.author_id, r.parent_author, "reply", week))
        else:
            own[r.author_id] += 1
            activity.append((r.author_id, "posts", week))
    mentions = await conn.execute(
        sa.select(p.c.author_id, t.post_mentions.c.actor_id, p.c.created_at)
        .join(t.post_mentions, t.post_mentions.c.post_id == p.c.id)
        .join(t.actors, t.actors.c.id == t.post_mentions.c.actor_id)
        .where(p.c.id.in_(counted), in_window, t.actors.c.kind == "person")
    )
    edges += [Edge(r[0], r[1], "mention", _week(r[2], since)) for r in mentions]
    boost = t.posts.alias("boost")
    boosts = await conn.execute(
        sa.select(boost.c.author_id, p.c.author_id, boost.c.created_at)
        .join(p, p.c.id == boost.c.reblog_of_id)
        .where(
            p.c.id.in_(counted),
            boost.c.deleted_at.is_(None),
            boost.c.created_at >= since,
            boost.c.created_at <= until,
        )
    )
    edges += [Edge(r[0], r[1], "boost", _week(r[2], since)) for r in boosts]
    f = t.favourites
    likes = await conn.execute(
        sa.select(f.c.actor_id, p.c.author_id, f.c.created_at)
        .join(p, p.c.id == f.c.post_id)
        .where(p.c.id.in_(counted), f.c.created_at >= since, f.c.created_at <= until)
    )
    edges += [Edge(r[0], r[1], "like", _week(r[2], since)) for r in likes]
    credits = await conn.execute(
        sa.select(p.c.author_id, t.result_contributors.c.actor_id, p.c.created_at)
        .join(t.result_contributors, t.result_contributors.c.post_id == p.c.id)
        .where(p.c.id.in_(counted), in_window)
    )
    edges += [Edge(r[0], r[1], "credit", _week(r[2], since)) for r in credits]
    rh = t.role_holders
    claims = await conn.execute(
        sa.select(rh.c.actor_id, rh.c.created_at)
        .join(t.roles, t.roles.c.id == rh.c.role_id)
        .where(
            t.roles.c.community_id == community_id,
            rh.c.created_at >= since,
            rh.c.created_at <= until,
        )
    )
    activity += [(r[0], "role", _week(r[1], since)) for r in claims]
    sc = t.roadmap_status_changes
    changes = await conn.execute(
        sa.select(sc.c.actor_id, sc.c.created_at)
        .join(t.roadmap_items, t.roadmap_items.c.id == sc.c.item_id)
        .where(
            t.roadmap_items.c.community_id == community_id,
            items_visible_to(viewer),
            sc.c.actor_id.is_not(None),
            sc.c.created_at >= since,
            sc.c.created_at <= until,
        )
    )
    activity += [(r[0], "roadmap", _week(r[1], since)) for r in changes]
    return edges, own, activity


async def _graph(
    ctx: Context,
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    weeks: int,
    until: datetime | None,
    *,
    also_name: int | None = None,
) -> Insights:
    community = await communities.get(conn, community_id)
    since, until_, mondays = window(weeks, until)
    member_q = sa.select(t.follows.c.follower_id).where(
        t.follows.c.target_id == community.actor_id, t.follows.c.state == "accepted"
    )
    members = await _ids(conn, member_q)
    opted = await _ids(
        conn,
        sa.select(t.insights_opt_outs.c.actor_id).where(
            t.insights_opt_outs.c.actor_id.in_(member_q)
        ),
    )
    managers = await _ids(
        conn,
        sa.select(t.community_managers.c.actor_id).where(
            t.community_managers.c.community_id == community_id
        ),
    )
    holders = await _ids(
        conn,
        sa.select(t.role_holders.c.actor_id)
        .join(t.roles, t.roles.c.id == t.role_holders.c.role_id)
        .where(t.roles.c.community_id == community_id, t.role_holders.c.state == "held"),
    )
    edges, own, activity = await _edges(conn, viewer, community_id, member_q, since, until_)

    stats = {m: PersonStats(m) for m in members}
    for actor_id, n in own.items():
        stats.setdefault(actor_id, PersonStats(actor_id)).posts = n
    for actor_id, kind, _ in activity:
        if kind in ("role", "roadmap"):
            s = stats.setdefault(actor_id, PersonStats(actor_id))
            if kind == "role":
                s.role_actions += 1
            else:
                s.roadmap_changes += 1
    measure(stats, edges)
    th = Thresholds.for_members(len(members))
    for s in stats.values():
        s.profile = classify(s, th)

    named = (members - opted) | ({also_name} & members if also_name is not None else set())
    actors = {
        r.id: actor_view(r, ctx.base, ctx.settings.domain)
        for r in await conn.execute(sa.select(t.actors).where(t.actors.c.id.in_(member_q)))
    }
    people = [
        Person(actors[a], stats[a], a in managers, a in holders) for a in named if a in actors
    ]
    for person in people:
        person.leader = is_leader(person.stats, th)
    people.sort(key=lambda p: (-p.stats.pagerank, p.actor.username))

    weekly = {k: [0] * weeks for k in ACTIVITY_KINDS}
    by_profile = {k: [0] * weeks for k in PROFILES}
    acts = _acts(edges, activity, weeks)
    current = _period(since, until_, acts, members)
    prev_since, prev_until = previous_window(weeks, since)
    prev_edges, _, prev_activity = await _edges(
        conn, viewer, community_id, member_q, prev_since, prev_until
    )
    previous = _period(prev_since, prev_until, _acts(prev_edges, prev_activity, weeks), members)
    own_weekly = {p.actor.id: p for p in people}
    for p in people:
        p.weekly = [0] * weeks
    for actor_id, kind, week in acts:
        weekly[kind][week] += 1
        if actor_id in own_weekly:
            own_weekly[actor_id].weekly[week] += 1
            by_profile[stats[actor_id].profile][week] += 1
    outsiders = {a for e in edges for a in (e.source, e.target)} - members
    return Insights(
        community_id=community_id,
        weeks=mondays,
        until=until_,
        thresholds=th,
        people=people,
        opted_out=len(opted),
        outsiders=len(outsiders),
        outsider_interactions=sum(1 for e in edges if e.source in outsiders),
        profile_counts={k: sum(1 for p in people if p.stats.profile == k) for k in PROFILES},
        weekly_activity=weekly,
        weekly_profiles=by_profile,
        totals={k: sum(v) for k, v in weekly.items()},
        active=current.active,
        previous=previous,
    )


async def community_insights(
    ctx: Context,
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    *,
    weeks: int = DEFAULT_WEEKS,
    until: datetime | None = None,
) -> Insights:
    """The managers' view of a community; Forbidden for anyone else."""
    if not await communities.is_manager(conn, community_id, viewer.actor_id):
        raise Forbidden("only community managers can see the community's insights")
    return await _graph(ctx, conn, viewer, community_id, weeks, until)


async def my_insights(
    ctx: Context,
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    *,
    weeks: int = DEFAULT_WEEKS,
    until: datetime | None = None,
) -> MyInsights:
    """A member's own profile in the community, counted with what they may see themselves.

    An opted-out member still sees their own numbers; nobody else does."""
    community = await communities.get(conn, community_id)
    if (
        viewer.actor_id is None
        or await communities.membership(conn, community, viewer.actor_id) != "accepted"
    ):
        raise Forbidden("only members of the community have a profile in it")
    full = await _graph(ctx, conn, viewer, community_id, weeks, until, also_name=viewer.actor_id)
    me = next(p for p in full.people if p.actor.id == viewer.actor_id)
    return MyInsights(
        person=me,
        weeks=full.weeks,
        thresholds=full.thresholds,
        opted_out=await is_opted_out(conn, viewer.actor_id),
        weekly=me.weekly,
    )


async def is_opted_out(conn: AsyncConnection, actor_id: int) -> bool:
    """Did this person ask to be left out of community insights?"""
    row = await conn.execute(sa.select(1).where(t.insights_opt_outs.c.actor_id == actor_id))
    return row.first() is not None


async def set_opt_out(ctx: Context, actor_id: int, opted_out: bool) -> None:
    """Leave community insights (shown only in aggregate counts) or take part again."""
    async with ctx.db.write() as conn:
        await conn.execute(
            t.insights_opt_outs.delete().where(t.insights_opt_outs.c.actor_id == actor_id)
        )
        if opted_out:
            await conn.execute(
                t.insights_opt_outs.insert().values(actor_id=actor_id, created_at=clock.now())
            )
    log.info("actor %s %s community insights", actor_id, "left" if opted_out else "rejoined")
