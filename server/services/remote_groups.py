"""The ``communities`` row a remote Group gets once we hear from it (so membership, audiences and
its federated purpose, roadmap, roles and events have somewhere to live), kept in step with the
Group's actor document."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.errors import Forbidden, NotFound
from server.storage import schema as t
from server.storage.rows import inserted_id


async def ensure_remote_community(conn: AsyncConnection, group: sa.Row) -> int:
    """A ``communities`` row for a remote Group (so membership and audiences work); returns its id."""
    found = (
        await conn.execute(
            sa.select(t.communities.c.id).where(t.communities.c.actor_id == group.id)
        )
    ).scalar()
    if found is not None:
        return int(found)
    res = await conn.execute(
        t.communities.insert().values(
            actor_id=group.id,
            name=(group.display_name or group.username)[:255],
            description_html=group.summary_html,
            openness="approval" if group.manually_approves_followers else "open",
            local=False,
            created_at=clock.now(),
        )
    )
    return inserted_id(res)


async def refresh_remote_community(conn: AsyncConnection, group: sa.Row) -> None:
    """After a remote Group's Update: its community row follows the refreshed actor document."""
    await ensure_remote_community(conn, group)
    await conn.execute(
        t.communities.update()
        .where(t.communities.c.actor_id == group.id)
        .values(
            name=(group.display_name or group.username)[:255],
            description_html=group.summary_html,
            openness="approval" if group.manually_approves_followers else "open",
        )
    )


async def receive_moderator_change(
    conn: AsyncConnection, actor_id: int, group_uri: str, moderator_id: int, *, add: bool
) -> None:
    """A remote Group's ``Add`` / ``Remove`` of a moderator (Lemmy style), kept as the managers of
    its community row. Believed from the Group itself or from one of its known moderators on its
    host: Forbidden otherwise; NotFound for a Group we do not know."""
    group = (await conn.execute(sa.select(t.actors).where(t.actors.c.uri == group_uri))).first()
    if group is None or group.kind != "group" or group.domain is None:
        raise NotFound("moderators of a Group we do not know")
    community_id = await ensure_remote_community(conn, group)
    actor = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()
    if actor_id != group.id and (
        actor.domain != group.domain or actor_id not in await _managers(conn, community_id)
    ):
        raise Forbidden("only the Group or its moderators on its host change its moderators")
    pair = sa.and_(
        t.community_managers.c.community_id == community_id,
        t.community_managers.c.actor_id == moderator_id,
    )
    await conn.execute(t.community_managers.delete().where(pair))
    if add:
        await conn.execute(
            t.community_managers.insert().values(
                community_id=community_id, actor_id=moderator_id, created_at=clock.now()
            )
        )


async def replace_managers(conn: AsyncConnection, community_id: int, actor_ids: list[int]) -> None:
    """A catch-up with a remote community: its managers are exactly ``actor_ids``."""
    await conn.execute(
        t.community_managers.delete().where(t.community_managers.c.community_id == community_id)
    )
    for actor_id in dict.fromkeys(actor_ids):
        await conn.execute(
            t.community_managers.insert().values(
                community_id=community_id, actor_id=actor_id, created_at=clock.now()
            )
        )


async def _managers(conn: AsyncConnection, community_id: int) -> set[int]:
    rows = await conn.execute(
        sa.select(t.community_managers.c.actor_id).where(
            t.community_managers.c.community_id == community_id
        )
    )
    return {int(r[0]) for r in rows}
