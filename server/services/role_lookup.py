"""Roles as federation names them: a role with its community's Group, a local role by its id,
and the claims our members have sent to roles of communities elsewhere.

``server/activitypub/roles/`` shapes these into activities; claiming and its rules are
``roles``'.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import community_documents, post_rows
from server.storage import schema as t


async def role_and_group(conn: AsyncConnection, role_id: int) -> tuple[sa.Row, sa.Row] | None:
    """The role and its community's Group actor (local or remote), or None."""
    role = await community_documents.role_row(conn, role_id)
    if role is None:
        return None
    group = await post_rows.community_actor(conn, role.community_id)
    return None if group is None else (role, group)


async def role_id_by_uri(conn: AsyncConnection, uri: str) -> int | None:
    """The role whose stored id is ``uri``, or None."""
    found = (await conn.execute(sa.select(t.roles.c.id).where(t.roles.c.uri == uri))).scalar()
    return None if found is None else int(found)


async def remote_roles_claimed_by(conn: AsyncConnection, member_id: int) -> list[sa.Row]:
    """The roles of communities elsewhere our member holds or has asked for (with an id)."""
    rh = t.role_holders
    return list(
        await conn.execute(
            sa.select(t.roles)
            .join(rh, rh.c.role_id == t.roles.c.id)
            .join(t.communities, t.communities.c.id == t.roles.c.community_id)
            .where(
                rh.c.actor_id == member_id,
                t.communities.c.local.is_(False),
                t.roles.c.uri.is_not(None),
            )
        )
    )
