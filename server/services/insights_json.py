"""The managers' insights as JSON: the Koers API's shape, also served to a manager on another
instance (``GET {group}/insights``), so both read the same document."""

from __future__ import annotations

from typing import Any

from server.clock import iso
from server.services.insights import Insights, MyInsights, Period, Person
from server.services.views import ActorView


def account_json(actor: ActorView) -> dict[str, Any]:
    """A compact account: enough to show and to look up through the Mastodon API."""
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": actor.acct,
        "display_name": actor.display_name,
        "url": actor.url or actor.uri,
        "avatar": actor.avatar_url,
    }


def person_json(p: Person) -> dict[str, Any]:
    """One member's profile and numbers."""
    s = p.stats
    return {
        "account": account_json(p.actor),
        "profile": s.profile,
        "leader": p.leader,
        "informal": p.informal,
        "manager": p.is_manager,
        "holds_role": p.holds_role,
        "posts": s.posts,
        "given": dict(s.given),
        "received": dict(s.received),
        "role_actions": s.role_actions,
        "roadmap_changes": s.roadmap_changes,
        "responders": s.responders,
        "reached": s.reached,
        "in_degree": s.in_degree,
        "out_degree": s.out_degree,
        "responses_per_post": round(s.responses_per_post, 3),
        "pagerank": round(s.pagerank, 6),
        "centrality": round(s.centrality, 3),
        "weekly": list(p.weekly),
    }


def thresholds_json(data: Insights | MyInsights) -> dict[str, Any]:
    """The thresholds the profiles were drawn with."""
    th = data.thresholds
    return {k: getattr(th, k) for k in th.__slots__}


def period_json(period: Period | None) -> dict[str, Any] | None:
    """The totals of the period just before, for the period comparison (None: not computed)."""
    if period is None:
        return None
    return {
        "since": iso(period.since),
        "until": iso(period.until),
        "totals": dict(period.totals),
        "active": period.active,
    }


def insights_json(data: Insights) -> dict[str, Any]:
    """The managers' view."""
    return {
        "community_id": str(data.community_id),
        "weeks": [iso(w) for w in data.weeks],
        "until": iso(data.until),
        "thresholds": thresholds_json(data),
        "leaders": [str(p.actor.id) for p in data.leaders],
        "quiet": [str(p.actor.id) for p in data.quiet],
        "gone_quiet": [str(p.actor.id) for p in data.gone_quiet],
        "people": [person_json(p) for p in data.people],
        "profile_counts": data.profile_counts,
        "opted_out": data.opted_out,
        "outsiders": data.outsiders,
        "outsider_interactions": data.outsider_interactions,
        "weekly_activity": data.weekly_activity,
        "weekly_profiles": data.weekly_profiles,
        "totals": data.totals,
        "active": data.active,
        "previous": period_json(data.previous),
    }
