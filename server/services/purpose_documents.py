"""What the purpose process's ActivityStreams documents are built from: the proposals and
decisions a requester may see (with their posts' ids), and which proposals a decision weighs.

``server/activitypub/purpose/activities.py`` shapes them into the Group's process document.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t
from server.visibility import Viewer, posts_visible_to

pp, pd = t.purpose_proposals, t.purpose_decisions


async def _visible(
    conn: AsyncConnection, table: sa.Table, community_id: int, viewer: Viewer
) -> list[sa.Row]:
    return list(
        await conn.execute(
            sa.select(table, t.posts.c.uri.label("post_uri"))
            .join(t.posts, t.posts.c.id == table.c.post_id)
            .where(table.c.community_id == community_id, posts_visible_to(viewer))
            .order_by(table.c.id)
        )
    )


async def visible_proposals(
    conn: AsyncConnection, community_id: int, viewer: Viewer
) -> list[sa.Row]:
    """A community's proposals whose posts ``viewer`` may see, oldest first (with ``post_uri``)."""
    return await _visible(conn, pp, community_id, viewer)


async def visible_decisions(
    conn: AsyncConnection, community_id: int, viewer: Viewer
) -> list[sa.Row]:
    """A community's decisions whose posts ``viewer`` may see, oldest first (with ``post_uri``)."""
    return await _visible(conn, pd, community_id, viewer)


async def proposals_of_decision(conn: AsyncConnection, decision_id: int) -> list[int]:
    """The ids of the proposals a decision weighs, oldest first."""
    return [
        int(i)
        for (i,) in await conn.execute(
            sa.select(pp.c.id).where(pp.c.decision_id == decision_id).order_by(pp.c.id)
        )
    ]


async def remote_endorsement_target(conn: AsyncConnection, version_id: int) -> sa.Row | None:
    """(uri, group_id, group_uri) of a purpose version of a REMOTE community, or None."""
    pv = t.purpose_versions
    return (
        await conn.execute(
            sa.select(
                pv.c.uri,
                t.actors.c.id.label("group_id"),
                t.actors.c.uri.label("group_uri"),
            )
            .join(t.communities, t.communities.c.id == pv.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(pv.c.id == version_id, t.actors.c.domain.is_not(None))
        )
    ).first()
