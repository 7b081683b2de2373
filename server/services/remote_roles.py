"""Roles of a community hosted on another instance, as this instance keeps them: ``roles`` rows
of the remote community (with the origin's ``uri``), their competencies and ``role_holders`` rows,
refreshed from what the origin publishes (``server/activitypub/roles/sync.py`` reads it). Our own
members' pending claims (``requested``) survive a refresh, and a member whose term of such a role
has passed is told (``koers.role_term_ended``) as a local holder would be.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.services import notifications, role_terms
from server.services.roles import MAX_NAME
from server.storage import schema as t
from server.storage.rows import inserted_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RemoteRole:
    """One role as its origin publishes it; ``holders``: (actor id, since, ends at)."""

    uri: str
    name: str
    fill_mode: str
    term_days: int | None
    description_html: str
    competencies: list[tuple[str, str | None]]
    holders: list[tuple[int, datetime | None, datetime | None]]


async def keep_role(conn: AsyncConnection, community_id: int, role: RemoteRole) -> int | None:
    """Insert or refresh one remote role with its competencies and holders; its id here.

    None when the id is a role of another community (a Group updates only its own roles).
    """
    role_id = await _upsert_role(conn, community_id, role)
    if role_id is None:
        return None
    rc, rh = t.role_competencies, t.role_holders
    await conn.execute(rc.delete().where(rc.c.role_id == role_id))
    if role.competencies:
        await conn.execute(
            rc.insert(),
            [{"role_id": role_id, "name": n, "level": lv} for n, lv in role.competencies],
        )
    holders = [actor_id for actor_id, _, _ in role.holders]
    # Holders the origin no longer lists go; our members' pending claims stay until answered.
    await conn.execute(
        rh.delete().where(
            rh.c.role_id == role_id,
            rh.c.state == "held",
            rh.c.actor_id.not_in(holders or [0]),
        )
    )
    now = clock.now()
    for actor_id, since, ends_at in role.holders:
        values = {"state": "held", "created_at": since or now, "ends_at": ends_at}
        where = (rh.c.role_id == role_id, rh.c.actor_id == actor_id)
        before = (await conn.execute(sa.select(rh.c.ends_at).where(*where))).first()
        if before is None:
            await conn.execute(rh.insert().values(role_id=role_id, actor_id=actor_id, **values))
        else:
            await conn.execute(rh.update().where(*where).values(**values))
        if role_terms.is_up(ends_at, now) and not (
            before is not None and role_terms.is_up(before.ends_at, now)
        ):
            await _tell_term_ended(conn, community_id, role_id, actor_id)
    return role_id


async def _upsert_role(conn: AsyncConnection, community_id: int, role: RemoteRole) -> int | None:
    name = role.name
    values = {
        "name": name,
        "fill_mode": role.fill_mode,
        "term_days": role.term_days,
        "description_html": role.description_html,
    }
    r = t.roles
    row = (
        await conn.execute(sa.select(r.c.id, r.c.community_id).where(r.c.uri == role.uri))
    ).first()
    if row is not None and row.community_id != community_id:
        log.info("role %s belongs to another community; not changed", role.uri)
        return None
    found = row.id if row is not None else None
    clash = (
        await conn.execute(
            sa.select(r.c.id).where(
                r.c.community_id == community_id, r.c.name == name, r.c.uri != role.uri
            )
        )
    ).scalar()
    if clash is not None:  # another role of it had this name before a rename: keep both apart
        await conn.execute(
            r.update().where(r.c.id == clash).values(name=f"{name[: MAX_NAME - 12]} ({clash})")
        )
    if found is None:
        res = await conn.execute(
            r.insert().values(
                community_id=community_id, uri=role.uri, created_at=clock.now(), **values
            )
        )
        return inserted_id(res)
    await conn.execute(r.update().where(r.c.id == found).values(**values))
    return int(found)


async def _tell_term_ended(
    conn: AsyncConnection, community_id: int, role_id: int, actor_id: int
) -> None:
    """One of our members' term of a remote role has passed: they hear it here, as a local holder would."""
    local = (
        await conn.execute(sa.select(t.actors.c.domain).where(t.actors.c.id == actor_id))
    ).first()
    if local is None or local.domain is not None:
        return
    group = (
        await conn.execute(
            sa.select(t.communities.c.actor_id).where(t.communities.c.id == community_id)
        )
    ).scalar()
    name = (await conn.execute(sa.select(t.roles.c.name).where(t.roles.c.id == role_id))).scalar()
    await notifications.notify(
        conn,
        actor_id,
        "koers.role_term_ended",
        from_actor_id=group,
        community_id=community_id,
        extra={"role_id": role_id, "role": name, "holder_id": actor_id},
    )
