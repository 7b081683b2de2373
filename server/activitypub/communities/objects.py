"""Communities' own objects as ActivityStreams: purpose versions, roles (with holders), roadmap items.

Each uses a standard type Mastodon can show (``Page`` / ``Article``) with Koers terms added.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from server import urls
from server.activitypub.core.vocab import PUBLIC, context
from server.clock import iso
from server.services import community_documents as reads
from server.visibility import Audience, addressing


async def purpose_object(
    conn: AsyncConnection, base: str, community_id: int, version: int
) -> dict[str, Any] | None:
    """A purpose version as a ``Page`` (public: the purpose is the community's face)."""
    group = await reads.local_group(conn, community_id)
    row = await reads.purpose_version(conn, community_id, version)
    if group is None or row is None:
        return None
    author = await reads.actor_uri(conn, row.author_id)
    return {
        "@context": context(base),
        "id": row.uri or urls.purpose_version(base, group.username, version),
        "type": "Page",
        "name": f"Purpose, version {version}",
        "content": row.text_html,
        "attributedTo": [group.uri, *([author] if author else [])],
        "published": iso(row.created_at),
        "to": [PUBLIC],
        "cc": [group.followers_url],
        "audience": group.uri,
        "koers:version": version,
        "koers:purpose": True,
        "summary": row.reason or None,
    }


async def role_object(conn: AsyncConnection, base: str, role_id: int) -> dict[str, Any] | None:
    """A role as a ``Page`` with fill mode, competencies and its holders collection."""
    role = await reads.role_row(conn, role_id)
    if role is None:
        return None
    group = await reads.local_group(conn, role.community_id)
    if group is None:
        return None
    uri = role.uri or urls.role(base, group.username, role.id)
    comps = [
        {"name": n, "koers:level": lvl} for n, lvl in await reads.role_competencies(conn, role.id)
    ]
    held = await reads.role_holders(conn, role.id)
    holders = [r.uri for r in held]
    terms = [
        {"koers:holder": r.uri, "startTime": iso(r.created_at), "koers:endsAt": iso(r.ends_at)}
        for r in held
        if r.ends_at is not None
    ]
    return {
        "@context": context(base),
        "id": uri,
        "type": "Page",
        "name": role.name,
        "content": role.description_html,
        "attributedTo": group.uri,
        "audience": group.uri,
        "to": [PUBLIC],
        "koers:role": True,
        "koers:fillMode": role.fill_mode,
        "koers:competencies": comps,
        "published": iso(role.created_at),
        "koers:holders": {
            "id": f"{uri}/holders",
            "type": "Collection",
            "totalItems": len(holders),
            "items": holders,
        },
        "koers:termDays": role.term_days,
        "koers:terms": terms,
    }


async def roadmap_object(conn: AsyncConnection, base: str, item_id: int) -> dict[str, Any] | None:
    """A roadmap item as an ``Article`` with its status; addressed by its audience."""
    item = await reads.roadmap_item_row(conn, item_id)
    if item is None:
        return None
    group = await reads.local_group(conn, item.community_id)
    if group is None:
        return None
    address = addressing(
        Audience(item.audience),
        followers_url=group.followers_url,
        community_uri=group.uri,
        partners_url=urls.partners_collection(base),
    )
    if address is None:
        return None
    lead = await reads.actor_uri(conn, item.lead_actor_id)
    owner = await reads.role_uri(conn, item.owner_role_id)
    return {
        "@context": context(base),
        "id": item.uri or urls.roadmap_item(base, group.username, item.id),
        "type": "Article",
        "name": item.title,
        "content": item.description_html,
        "attributedTo": group.uri,
        "audience": group.uri,
        "to": address.to,
        "cc": address.cc,
        "koers:status": item.status,
        "koers:role": owner,
        "published": iso(item.created_at),
        "updated": iso(item.updated_at),
        "followers": f"{item.uri or urls.roadmap_item(base, group.username, item.id)}/followers",
        "koers:purposeVersion": item.purpose_version,
        "koers:targetDate": item.target_date.isoformat() if item.target_date else None,
        "koers:lead": lead,
        "likes": {"type": "Collection", "totalItems": await reads.support_count(conn, item.id)},
    }
