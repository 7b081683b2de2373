"""Actors (people, Groups, the organisation; ours and remote) found by id, URI or name.

The lookups the ActivityPub side needs to translate an activity or serve a document: the rows
themselves, never a rule about them (those live with the concept: follows, communities …).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t


async def actor_row(conn: AsyncConnection, actor_id: int) -> sa.Row:
    """The actor ``actor_id`` (it must exist)."""
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()


async def actor_by_uri(conn: AsyncConnection, uri: str | None) -> sa.Row | None:
    """The actor (ours or remote) whose id is ``uri``, if we know it."""
    if not uri:
        return None
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.uri == uri))).first()


async def local_actor(conn: AsyncConnection, username: str, kind: str) -> sa.Row | None:
    """Our actor of ``kind`` (``person``, ``group``, ``organization``) called ``username``,
    suspended or not (the caller decides what a suspended one is)."""
    return (
        await conn.execute(
            sa.select(t.actors).where(
                t.actors.c.username == username.lower(),
                t.actors.c.domain.is_(None),
                t.actors.c.kind == kind,
            )
        )
    ).first()


async def local_person_id(conn: AsyncConnection, username: str) -> int | None:
    """The id of our unsuspended person called ``username`` (already lower-cased)."""
    found = (
        await conn.execute(
            sa.select(t.actors.c.id).where(
                t.actors.c.username == username,
                t.actors.c.domain.is_(None),
                t.actors.c.kind == "person",
                t.actors.c.suspended.is_(False),
            )
        )
    ).scalar()
    return None if found is None else int(found)


async def ids_of_uris(conn: AsyncConnection, uris: Iterable[str]) -> list[int]:
    """The ids of the actors we know among ``uris`` (unknown ones are left out)."""
    wanted = set(uris)
    if not wanted:
        return []
    rows = await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri.in_(wanted)))
    return [int(r[0]) for r in rows]


async def local_members_of_group(conn: AsyncConnection, group_uri: str, limit: int) -> list[int]:
    """Our unsuspended people who are accepted followers (members) of the Group ``group_uri``,
    oldest first, at most ``limit``."""
    member, group = t.actors.alias("member"), t.actors.alias("grp")
    query = (
        sa.select(t.follows.c.follower_id)
        .join(member, member.c.id == t.follows.c.follower_id)
        .join(group, group.c.id == t.follows.c.target_id)
        .where(
            group.c.uri == group_uri,
            group.c.kind == "group",
            t.follows.c.state == "accepted",
            member.c.domain.is_(None),
            member.c.kind == "person",
            member.c.suspended.is_(False),
        )
        .order_by(t.follows.c.id)
        .limit(limit)
    )
    return [int(r[0]) for r in await conn.execute(query)]


async def remote_group(conn: AsyncConnection, community_id: int) -> sa.Row | None:
    """The Group actor (``id``, ``uri``) of the remote community ``community_id``."""
    return (
        await conn.execute(
            sa.select(t.actors.c.id, t.actors.c.uri)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id, t.communities.c.local.is_(False))
        )
    ).first()


async def actor_id_by_url(conn: AsyncConnection, url: str) -> int | None:
    """The unsuspended actor whose id or profile page is ``url``."""
    found = (
        await conn.execute(
            sa.select(t.actors.c.id).where(
                sa.or_(t.actors.c.uri == url, t.actors.c.url == url),
                t.actors.c.suspended.is_(False),
            )
        )
    ).scalar()
    return None if found is None else int(found)


async def local_actor_id(conn: AsyncConnection, username: str) -> int | None:
    """Our unsuspended actor (of any kind) called ``username``."""
    found = (
        await conn.execute(
            sa.select(t.actors.c.id).where(
                t.actors.c.username == username.lower(),
                t.actors.c.domain.is_(None),
                t.actors.c.suspended.is_(False),
            )
        )
    ).scalar()
    return None if found is None else int(found)
