"""What a community's ActivityStreams documents are built from: its Group, purpose versions, roles
(with holders and competencies), roadmap items and managers.

``server/activitypub/communities/`` shapes these rows into documents; the reads live here so the
ActivityPub layer runs no SQL. Visibility is ``server.visibility``'s, as everywhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import post_rows
from server.storage import schema as t
from server.visibility import Viewer, items_visible_to


async def group_of(conn: AsyncConnection, community_id: int) -> sa.Row | None:
    """The Group actor of a community (local or remote), or None."""
    return await post_rows.community_actor(conn, community_id)


async def local_group(conn: AsyncConnection, community_id: int) -> sa.Row | None:
    """The Group actor of a LOCAL community, or None."""
    return (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id, t.actors.c.domain.is_(None))
        )
    ).first()


async def local_community_id(conn: AsyncConnection, handle: str) -> int | None:
    """The id of the local community ``handle``, or None."""
    found = (
        await conn.execute(
            sa.select(t.communities.c.id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.actors.c.username == handle.lower(), t.actors.c.domain.is_(None))
        )
    ).scalar()
    return None if found is None else int(found)


async def actor_uri(conn: AsyncConnection, actor_id: int | None) -> str | None:
    """The ActivityPub id of an actor, or None."""
    if actor_id is None:
        return None
    return (await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == actor_id))).scalar()


async def purpose_version(conn: AsyncConnection, community_id: int, version: int) -> sa.Row | None:
    """One ``purpose_versions`` row of a community, or None."""
    pv = t.purpose_versions
    return (
        await conn.execute(
            sa.select(pv).where(pv.c.community_id == community_id, pv.c.version == version)
        )
    ).first()


async def purpose_version_numbers(conn: AsyncConnection, community_id: int) -> list[int]:
    """Every version number of a community's purpose, newest first."""
    pv = t.purpose_versions
    return [
        r[0]
        for r in await conn.execute(
            sa.select(pv.c.version)
            .where(pv.c.community_id == community_id)
            .order_by(pv.c.version.desc())
        )
    ]


async def role_row(conn: AsyncConnection, role_id: int) -> sa.Row | None:
    """The ``roles`` row, or None."""
    return (await conn.execute(sa.select(t.roles).where(t.roles.c.id == role_id))).first()


async def role_community(conn: AsyncConnection, role_id: int) -> int | None:
    """The community a role belongs to, or None."""
    return (
        await conn.execute(sa.select(t.roles.c.community_id).where(t.roles.c.id == role_id))
    ).scalar()


async def role_uri(conn: AsyncConnection, role_id: int | None) -> str | None:
    """The stored ``uri`` of a role (None for a local role or none at all)."""
    if role_id is None:
        return None
    return (await conn.execute(sa.select(t.roles.c.uri).where(t.roles.c.id == role_id))).scalar()


async def role_ids(conn: AsyncConnection, community_id: int) -> list[int]:
    """A community's role ids, oldest first."""
    return [
        r[0]
        for r in await conn.execute(
            sa.select(t.roles.c.id)
            .where(t.roles.c.community_id == community_id)
            .order_by(t.roles.c.id)
        )
    ]


async def role_competencies(conn: AsyncConnection, role_id: int) -> list[tuple[str, str | None]]:
    """(name, level) of each competency a role asks for."""
    rc = t.role_competencies
    return [
        (r.name, r.level)
        for r in await conn.execute(sa.select(rc.c.name, rc.c.level).where(rc.c.role_id == role_id))
    ]


async def role_holders(conn: AsyncConnection, role_id: int) -> list[sa.Row]:
    """(uri, created_at, ends_at) of each person who holds a role."""
    rh = t.role_holders
    return list(
        await conn.execute(
            sa.select(t.actors.c.uri, rh.c.created_at, rh.c.ends_at)
            .join(rh, rh.c.actor_id == t.actors.c.id)
            .where(rh.c.role_id == role_id, rh.c.state == "held")
        )
    )


async def roadmap_item_row(conn: AsyncConnection, item_id: int) -> sa.Row | None:
    """The ``roadmap_items`` row, or None (no visibility check: callers check)."""
    ri = t.roadmap_items
    return (await conn.execute(sa.select(ri).where(ri.c.id == item_id))).first()


async def roadmap_item_community(conn: AsyncConnection, item_id: int) -> int | None:
    """The community a roadmap item belongs to, or None."""
    ri = t.roadmap_items
    return (await conn.execute(sa.select(ri.c.community_id).where(ri.c.id == item_id))).scalar()


async def published_roadmap_ids(
    conn: AsyncConnection, viewer: Viewer, community_id: int
) -> list[int]:
    """The roadmap items of a community ``viewer`` may see, but members-only ones, oldest first."""
    ri = t.roadmap_items
    return [
        r[0]
        for r in await conn.execute(
            sa.select(ri.c.id)
            .where(
                ri.c.community_id == community_id,
                items_visible_to(viewer),
                ri.c.audience != "members",
            )
            .order_by(ri.c.id)
        )
    ]


async def support_count(conn: AsyncConnection, item_id: int) -> int:
    """How many people support the item (a remote ``Like`` of it counts too)."""
    rs = t.roadmap_supports
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count()).select_from(rs).where(rs.c.item_id == item_id)
            )
        ).scalar_one()
    )


async def manager_uris(conn: AsyncConnection, community_id: int) -> list[str]:
    """The ids of a community's managers, local and remote, in the order they became managers."""
    cm = t.community_managers
    return [
        r[0]
        for r in await conn.execute(
            sa.select(t.actors.c.uri)
            .join(cm, cm.c.actor_id == t.actors.c.id)
            .where(cm.c.community_id == community_id)
            .order_by(cm.c.id)
        )
    ]


async def has_blocked(conn: AsyncConnection, actor_id: int, target_id: int | None) -> bool:
    """Whether ``actor_id`` blocks ``target_id``."""
    b = t.blocks
    found = (
        await conn.execute(
            sa.select(b.c.id).where(b.c.actor_id == actor_id, b.c.target_id == target_id)
        )
    ).first()
    return found is not None


async def actor(conn: AsyncConnection, actor_id: int) -> sa.Row | None:
    """The ``actors`` row, or None."""
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).first()
