"""Koers API JSON: communities, accounts, purpose versions, roles, results and roadmap items.

Converters named by direction (``to_…_json``); ids are strings as in the Mastodon API, times are
ISO 8601. Mastodon clients see the same objects as statuses and accounts through the Mastodon API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from server import clock
from server.services import role_terms
from server.services.communities import Community
from server.services.purpose import PurposeVersion
from server.services.roadmap import Item, StatusChange
from server.services.roles import Role
from server.services.views import ActorView, PostView, actor_view


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and ``Z``, as Mastodon writes timestamps."""
    aware = clock.aware(value)
    if aware is None:
        return None
    return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"


def to_account_json(actor: ActorView) -> dict[str, Any]:
    """A compact account: enough to show and to look up through the Mastodon API."""
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": actor.acct,
        "display_name": actor.display_name,
        "url": actor.url or actor.uri,
        "avatar": actor.avatar_url,
    }


def row_account_json(row: Row, base: str, local_domain: str) -> dict[str, Any]:
    """``to_account_json`` for a row holding actor columns."""
    return to_account_json(actor_view(row, base, local_domain))


def to_community_json(
    community: Community, *, members_count: int, membership: str | None, manager: bool
) -> dict[str, Any]:
    """A community as the viewer sees it (``membership``: accepted, pending or null)."""
    return {
        "id": str(community.id),
        "account_id": str(community.actor_id),
        "handle": community.handle,
        "name": community.name,
        "description": community.description_html,
        "url": community.url,
        "uri": community.uri,
        "openness": community.openness,
        "member_list_visibility": community.member_list_visibility,
        "members_count": members_count,
        "membership": membership,
        "manager": manager,
        "created_at": iso(community.created_at),
    }


def to_purpose_json(version: PurposeVersion) -> dict[str, Any]:
    """One purpose version: source text, rendered HTML, why it changed and who changed it."""
    return {
        "version": version.version,
        "text": version.text_source,
        "html": version.text_html,
        "reason": version.reason,
        "author": version.author_username,
        "uri": version.uri,
        "created_at": iso(version.created_at),
    }


def to_role_json(role: Role, base: str, local_domain: str) -> dict[str, Any]:
    """A role with its fill mode, required competencies, holders and open requests."""
    return {
        "id": str(role.id),
        "community_id": str(role.community_id),
        "name": role.name,
        "description": role.description_html,
        "fill_mode": role.fill_mode,
        "uri": role.uri,
        "competencies": [{"name": n, "level": lv} for n, lv in role.competencies],
        "holders": [row_account_json(r, base, local_domain) for r in role.holders],
        "requested": [row_account_json(r, base, local_domain) for r in role.requested],
        "term_days": role.term_days,
        "holder_terms": [
            {
                "account_id": str(r.id),
                "since": iso(clock.aware(r.since)),
                "ends_at": iso(clock.aware(r.ends_at)),
                "up_for_reconsideration": role_terms.is_up(r.ends_at),
            }
            for r in role.holders
        ],
    }


def to_result_json(post: PostView) -> dict[str, Any]:
    """A result (a post of kind ``result``) with its community, roadmap item, roles and contributors."""
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": post.url,
        "title": post.title,
        "content": post.content_html,
        "audience": post.audience.value,
        "community_id": str(post.community_id) if post.community_id else None,
        "roadmap_item_id": str(post.roadmap_item_id) if post.roadmap_item_id else None,
        "roles": [{"id": str(rid), "name": name} for rid, name in post.roles],
        "contributors": [to_account_json(a) for a in post.contributors],
        "author": to_account_json(post.author),
        "created_at": iso(post.created_at),
    }


def to_item_json(item: Item, history: list[StatusChange] | None = None) -> dict[str, Any]:
    """A roadmap item; with ``history`` its status changes, oldest first."""
    out: dict[str, Any] = {
        "id": str(item.id),
        "community_id": str(item.community_id),
        "title": item.title,
        "description": item.description_html,
        "status": item.status,
        "owner_role_id": str(item.owner_role_id) if item.owner_role_id else None,
        "owner_role": item.owner_role_name,
        "audience": item.audience.value,
        "uri": item.uri,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "purpose_version": item.purpose_version,
        "lead_id": str(item.lead_actor_id) if item.lead_actor_id else None,
    }
    if history is not None:
        out["history"] = [
            {
                "from_status": c.from_status,
                "to_status": c.to_status,
                "author": c.author_username,
                "note": c.note,
                "created_at": iso(c.created_at),
            }
            for c in history
        ]
    return out
