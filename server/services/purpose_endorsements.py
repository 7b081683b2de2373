"""Endorsing the purpose in force: the social contract of a community.

Members endorse the current version; a new version asks everyone again (see
``purpose.new_version``), Discourse's policy re-acceptance pattern. A remote member's endorsement
arrives as a ``Like`` of the version's id; a local member endorsing a community on another instance
emits ``purpose.endorsed`` and federation sends that ``Like``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import Forbidden, NotFound
from server.services import posts, purpose
from server.services.communities import get
from server.services.views import ActorView, actor_view
from server.storage import schema as t
from server.visibility import Viewer, can_see_members


@dataclass(frozen=True, slots=True)
class Endorsements:
    """Who has endorsed the version in force, and which members have not yet."""

    version: int
    endorsed: list[ActorView]
    pending: list[ActorView]


async def _insert(conn: AsyncConnection, version_id: int, actor_id: int, uri: str | None) -> bool:
    exists = await conn.execute(
        sa.select(1).where(
            t.purpose_endorsements.c.version_id == version_id,
            t.purpose_endorsements.c.actor_id == actor_id,
        )
    )
    if exists.first():
        return False
    await conn.execute(
        t.purpose_endorsements.insert().values(
            version_id=version_id, actor_id=actor_id, uri=uri, created_at=clock.now()
        )
    )
    return True


async def endorse(ctx: Context, actor_id: int, community_id: int) -> int:
    """A member endorses the purpose in force; returns its version number (endorsing twice is harmless)."""
    async with ctx.db.write() as conn:
        await get(conn, community_id)
        if not await posts.is_member(conn, community_id, actor_id):
            raise Forbidden("only members endorse a community's purpose")
        version = await purpose.current(conn, community_id)
        if version is None:
            raise NotFound("this community's purpose is not known here yet")
        if not await _insert(conn, version.id, actor_id, None):
            return version.version
        event = await ctx.events.emit(
            conn,
            kinds.PURPOSE_ENDORSED,
            community_id=community_id,
            purpose_version_id=version.id,
            actor_id=actor_id,
        )
    await ctx.events.committed(event)
    return version.version


async def withdraw(ctx: Context, actor_id: int, community_id: int) -> int | None:
    """A member withdraws their endorsement of the version in force; returns its number (None: there was none).

    For a community on another instance federation sends an ``Undo`` of the ``Like``.
    """
    async with ctx.db.write() as conn:
        await get(conn, community_id)
        version = await purpose.current(conn, community_id)
        if version is None:
            raise NotFound("this community's purpose is not known here yet")
        where = (
            t.purpose_endorsements.c.version_id == version.id,
            t.purpose_endorsements.c.actor_id == actor_id,
        )
        if (
            await conn.execute(sa.select(t.purpose_endorsements.c.id).where(*where))
        ).first() is None:
            return None
        await conn.execute(t.purpose_endorsements.delete().where(*where))
        event = await ctx.events.emit(
            conn,
            kinds.PURPOSE_ENDORSEMENT_WITHDRAWN,
            community_id=community_id,
            purpose_version_id=version.id,
            actor_id=actor_id,
        )
    await ctx.events.committed(event)
    return version.version


def _local_version(version_uri: str | None) -> sa.Select[Any]:
    pv = t.purpose_versions
    return (
        sa.select(pv.c.id)
        .join(t.communities, t.communities.c.id == pv.c.community_id)
        .where(t.communities.c.local.is_(True), pv.c.uri == (version_uri or ""))
    )


async def is_local_version(conn: AsyncConnection, version_uri: str | None) -> bool:
    """Is ``version_uri`` the id of one of our communities' purpose versions?"""
    return (await conn.execute(_local_version(version_uri))).first() is not None


async def names_endorsement(
    conn: AsyncConnection, actor_id: int | None, version_uri: str | None, like_uri: str | None
) -> bool:
    """Does an ``Undo`` of a ``Like`` (of ``version_uri``, with id ``like_uri``) take back an
    endorsement: a Like of one of our versions, or the id of this actor's endorsement?"""
    if await is_local_version(conn, version_uri):
        return True
    pe = t.purpose_endorsements
    found = await conn.execute(
        sa.select(pe.c.id).where(pe.c.actor_id == (actor_id or -1), pe.c.uri == (like_uri or ""))
    )
    return found.first() is not None


async def withdraw_from_undo(
    conn: AsyncConnection, actor_id: int, version_uri: str | None, like_uri: str | None
) -> bool:
    """A remote ``Undo`` of a ``Like`` of one of our purpose versions (or of the endorsement's own id): the
    endorsement goes. Returns False when it is not about one of our purpose endorsements."""
    pe, pv = t.purpose_endorsements, t.purpose_versions
    local_version = (
        sa.select(pv.c.id)
        .join(t.communities, t.communities.c.id == pv.c.community_id)
        .where(t.communities.c.local.is_(True), pv.c.uri == (version_uri or ""))
    )
    found = (
        await conn.execute(
            sa.select(pe.c.id).where(
                pe.c.actor_id == actor_id,
                sa.or_(pe.c.version_id.in_(local_version), pe.c.uri == (like_uri or "")),
            )
        )
    ).first()
    if found is None:
        return (await conn.execute(local_version)).first() is not None
    await conn.execute(pe.delete().where(pe.c.id == found.id))
    return True


async def endorse_from_like(
    conn: AsyncConnection, actor_id: int, version_uri: str, like_uri: str | None
) -> bool:
    """A remote ``Like`` of a local purpose version: an endorsement when it is the version in force and the
    actor is a member. Returns False when the object is not one of our purpose versions."""
    row = (
        await conn.execute(
            sa.select(t.purpose_versions)
            .join(t.communities, t.communities.c.id == t.purpose_versions.c.community_id)
            .where(t.purpose_versions.c.uri == version_uri, t.communities.c.local.is_(True))
        )
    ).first()
    if row is None:
        return False
    now = await purpose.current(conn, row.community_id)
    if (
        now is not None
        and now.id == row.id
        and await posts.is_member(conn, row.community_id, actor_id)
    ):
        await _insert(conn, row.id, actor_id, like_uri)
    return True


async def has_endorsed(conn: AsyncConnection, community_id: int, actor_id: int | None) -> bool:
    """Has this person endorsed the version in force?"""
    version = await purpose.current(conn, community_id)
    if version is None or actor_id is None:
        return False
    found = await conn.execute(
        sa.select(1).where(
            t.purpose_endorsements.c.version_id == version.id,
            t.purpose_endorsements.c.actor_id == actor_id,
        )
    )
    return found.first() is not None


async def endorsements(
    conn: AsyncConnection, ctx: Context, viewer: Viewer, community_id: int
) -> Endorsements | None:
    """Endorsed and not-yet-endorsed members of the version in force; Forbidden when the member list is hidden."""
    if not await can_see_members(conn, viewer, community_id):
        raise Forbidden("the member list of this community is not visible to you")
    community = await get(conn, community_id)
    version = await purpose.current(conn, community_id)
    if version is None:
        return None
    endorsed_ids = sa.select(t.purpose_endorsements.c.actor_id).where(
        t.purpose_endorsements.c.version_id == version.id
    )
    members = (
        sa.select(t.actors)
        .join(t.follows, t.follows.c.follower_id == t.actors.c.id)
        .where(
            t.follows.c.target_id == community.actor_id,
            t.follows.c.state == "accepted",
            t.actors.c.suspended.is_(False),
        )
        .order_by(t.actors.c.username)
    )
    endorsed = [
        actor_view(r, ctx.base, ctx.settings.domain)
        for r in await conn.execute(members.where(t.actors.c.id.in_(endorsed_ids)))
    ]
    pending = [
        actor_view(r, ctx.base, ctx.settings.domain)
        for r in await conn.execute(members.where(t.actors.c.id.not_in(endorsed_ids)))
    ]
    return Endorsements(version=version.version, endorsed=endorsed, pending=pending)
