"""Ideas as federation names them: the idea row, its post's id, what it became, and the Group of
a remote community one of our members' idea posts belongs to.

``server/activitypub/ideas/`` shapes these into activities; what happens to an idea is
``ideas``', ``idea_outcomes``' and ``remote_ideas``'.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t


async def idea_row(conn: AsyncConnection, idea_id: int) -> sa.Row | None:
    """The ``ideas`` row, or None."""
    return (await conn.execute(sa.select(t.ideas).where(t.ideas.c.id == idea_id))).first()


async def post_uri(conn: AsyncConnection, post_id: int | None) -> str | None:
    """The ActivityPub id of a post, or None."""
    if post_id is None:
        return None
    return (await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.id == post_id))).scalar()


async def outcome_target(conn: AsyncConnection, idea: sa.Row, outcome: str) -> str | None:
    """The id of what the idea became (an item, a proposal's post, the idea it was merged into)."""
    if outcome == "roadmap":
        return (
            await conn.execute(
                sa.select(t.roadmap_items.c.uri).where(t.roadmap_items.c.id == idea.promoted_to_id)
            )
        ).scalar()
    if outcome == "proposal":
        post_id = (
            await conn.execute(
                sa.select(t.purpose_proposals.c.post_id).where(
                    t.purpose_proposals.c.id == idea.promoted_to_id
                )
            )
        ).scalar()
        return await post_uri(conn, post_id)
    if outcome == "merged":
        kept = (
            await conn.execute(
                sa.select(t.ideas.c.post_id).where(t.ideas.c.id == idea.merged_into_id)
            )
        ).scalar()
        return await post_uri(conn, kept)
    return None


async def remote_idea_home(conn: AsyncConnection, post_id: int) -> sa.Row | None:
    """(uri, group_id, group_uri) when ``post_id`` is one of OUR idea posts for a REMOTE
    community, else None."""
    return (
        await conn.execute(
            sa.select(
                t.posts.c.uri,
                t.actors.c.id.label("group_id"),
                t.actors.c.uri.label("group_uri"),
            )
            .join(t.ideas, t.ideas.c.post_id == t.posts.c.id)
            .join(t.communities, t.communities.c.id == t.ideas.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(
                t.posts.c.id == post_id,
                t.posts.c.local.is_(True),
                t.actors.c.domain.is_not(None),
            )
        )
    ).first()
