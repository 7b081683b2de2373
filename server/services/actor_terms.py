"""What a local actor's document says beyond its profile: a Group's community and managers, a
person's competencies and the roles they hold (``activitypub/core/actor_extras.py`` writes them
as Koers terms)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t


@dataclass(frozen=True, slots=True)
class GroupTerms:
    """A local Group's community row and its managers' actor ids (URIs)."""

    community: sa.Row
    manager_uris: list[str]


@dataclass(frozen=True, slots=True)
class PersonTerms:
    """A person's competencies ``(name, level)`` in the order entered, and the roles they hold
    ``(uri, name)`` (those with an id)."""

    competencies: list[tuple[str, str | None]]
    roles: list[tuple[str, str]]


async def group_terms(conn: AsyncConnection, actor_id: int) -> GroupTerms | None:
    """The community behind the Group ``actor_id`` and its managers; None for no community."""
    community = (
        await conn.execute(sa.select(t.communities).where(t.communities.c.actor_id == actor_id))
    ).first()
    if community is None:
        return None
    managers = [
        r[0]
        for r in await conn.execute(
            sa.select(t.actors.c.uri)
            .join(t.community_managers, t.community_managers.c.actor_id == t.actors.c.id)
            .where(t.community_managers.c.community_id == community.id)
        )
    ]
    return GroupTerms(community, managers)


async def person_terms(conn: AsyncConnection, actor_id: int) -> PersonTerms:
    """The competencies and held roles of the person ``actor_id``."""
    pairs = [
        (n, lvl)
        for n, lvl in await conn.execute(
            sa.select(t.competencies.c.name, t.competencies.c.level)
            .where(t.competencies.c.actor_id == actor_id)
            .order_by(t.competencies.c.id)
        )
    ]
    roles = [
        (uri, name)
        for uri, name in await conn.execute(
            sa.select(t.roles.c.uri, t.roles.c.name)
            .join(t.role_holders, t.role_holders.c.role_id == t.roles.c.id)
            .where(t.role_holders.c.actor_id == actor_id, t.role_holders.c.state == "held")
        )
        if uri
    ]
    return PersonTerms(pairs, roles)
