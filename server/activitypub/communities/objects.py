"""Communities' own objects as ActivityStreams: purpose versions, roles (with holders), roadmap items.

Each uses a standard type Mastodon can show (``Page`` / ``Article``) with Koers terms added.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import urls
from server.activitypub.core.vocab import PUBLIC, context
from server.clock import iso
from server.storage import schema as t
from server.visibility import Audience, addressing


async def _group(conn: AsyncConnection, community_id: int) -> sa.Row | None:
    return (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id, t.actors.c.domain.is_(None))
        )
    ).first()


async def purpose_object(
    conn: AsyncConnection, base: str, community_id: int, version: int
) -> dict[str, Any] | None:
    """A purpose version as a ``Page`` (public: the purpose is the community's face)."""
    group = await _group(conn, community_id)
    row = (
        await conn.execute(
            sa.select(t.purpose_versions).where(
                t.purpose_versions.c.community_id == community_id,
                t.purpose_versions.c.version == version,
            )
        )
    ).first()
    if group is None or row is None:
        return None
    author = None
    if row.author_id is not None:
        author = (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == row.author_id))
        ).scalar()
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
    role = (await conn.execute(sa.select(t.roles).where(t.roles.c.id == role_id))).first()
    if role is None:
        return None
    group = await _group(conn, role.community_id)
    if group is None:
        return None
    uri = role.uri or urls.role(base, group.username, role.id)
    comps = [
        {"name": n, "koers:level": lvl}
        for n, lvl in await conn.execute(
            sa.select(t.role_competencies.c.name, t.role_competencies.c.level).where(
                t.role_competencies.c.role_id == role.id
            )
        )
    ]
    held = list(
        await conn.execute(
            sa.select(t.actors.c.uri, t.role_holders.c.created_at, t.role_holders.c.ends_at)
            .join(t.role_holders, t.role_holders.c.actor_id == t.actors.c.id)
            .where(t.role_holders.c.role_id == role.id, t.role_holders.c.state == "held")
        )
    )
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
    item = (
        await conn.execute(sa.select(t.roadmap_items).where(t.roadmap_items.c.id == item_id))
    ).first()
    if item is None:
        return None
    group = await _group(conn, item.community_id)
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
    owner = lead = None
    if item.lead_actor_id is not None:
        lead = (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == item.lead_actor_id))
        ).scalar()
    if item.owner_role_id is not None:
        owner = (
            await conn.execute(sa.select(t.roles.c.uri).where(t.roles.c.id == item.owner_role_id))
        ).scalar()
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
        "koers:lead": lead,
        "likes": {"type": "Collection", "totalItems": await _supports(conn, item.id)},
    }


async def _supports(conn: AsyncConnection, item_id: int) -> int:
    """How many people support the item (a remote ``Like`` of it counts too)."""
    rs = t.roadmap_supports
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count()).select_from(rs).where(rs.c.item_id == item_id)
            )
        ).scalar_one()
    )
