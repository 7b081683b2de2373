"""The idea box of a community hosted on another instance, as this instance knows it.

The idea box itself lives on the community's home. What we know: our own members' ideas (``ideas``
rows written by ``ideas.submit_idea``, whose post goes to the Group marked ``koers:idea``; their
state follows what the home reports, see ``server.activitypub.ideas.activities``) and the idea posts of
others the Group shared with us. Supporting any of them is a like of its post: the ``Like`` reaches
the home, which counts it (``ideas.supporters_query``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import Conflict, NotFound
from server.services import ideas, posts
from server.storage import schema as t
from server.visibility import Viewer, posts_visible_to

MAX_SHARED = 200


@dataclass(frozen=True, slots=True)
class SharedIdea:
    """An idea post of someone elsewhere, shared with us by the community."""

    post_id: int
    title: str
    author_handle: str
    author_url: str
    supports: int
    supported_by_me: bool
    created_at: datetime


async def _is_remote(conn: AsyncConnection, community_id: int) -> bool:
    local = (
        await conn.execute(
            sa.select(t.communities.c.local).where(t.communities.c.id == community_id)
        )
    ).scalar()
    if local is None:
        raise NotFound("no such community")
    return not local


async def submit(
    ctx: Context,
    author_id: int,
    community_id: int,
    *,
    title: str,
    description: str = "",
    audience: str = "public",
) -> int:
    """A member here sends an idea to a community on another instance (members only); returns our idea id."""
    async with ctx.db.read() as conn:
        if not await _is_remote(conn, community_id):
            raise Conflict("this community is hosted here: use its own idea box")
    return await ideas.submit_idea(
        ctx, author_id, community_id, title=title, description=description, audience=audience
    )


async def shared_ideas(
    conn: AsyncConnection, viewer: Viewer, community_id: int
) -> list[SharedIdea]:
    """Idea posts by people elsewhere that the viewer may see, newest first (ours are ``ideas`` rows)."""
    p = t.posts
    mine: sa.ColumnElement[bool] = sa.literal(False)
    if viewer.actor_id is not None:
        mine = sa.exists(
            sa.select(1).where(
                t.favourites.c.post_id == p.c.id, t.favourites.c.actor_id == viewer.actor_id
            )
        )
    rows = await conn.execute(
        sa.select(
            p.c.id,
            p.c.content_html,
            p.c.extra,
            p.c.favourites_count,
            p.c.created_at,
            p.c.url,
            p.c.uri,
            t.actors.c.username,
            t.actors.c.domain,
            mine.label("mine"),
        )
        .join(t.actors, t.actors.c.id == p.c.author_id)
        .where(
            p.c.community_id == community_id,
            p.c.local.is_(False),
            p.c.reblog_of_id.is_(None),
            posts_visible_to(viewer),
        )
        .order_by(p.c.id.desc())
        .limit(MAX_SHARED)
    )
    return [
        SharedIdea(
            post_id=r.id,
            title=ideas.title_from(r.content_html),
            author_handle=f"{r.username}@{r.domain}",
            author_url=r.url or r.uri,
            supports=int(r.favourites_count),
            supported_by_me=bool(r.mine),
            created_at=clock.aware(r.created_at),
        )
        for r in rows
        if (r.extra or {}).get("idea")
    ]


async def idea_post(conn: AsyncConnection, viewer: Viewer, community_id: int, post_id: int) -> int:
    """The post of an idea of this remote community the viewer may see (NotFound otherwise)."""
    p = t.posts
    row = (
        await conn.execute(
            sa.select(p.c.id, p.c.extra, t.ideas.c.id.label("idea_id"))
            .outerjoin(t.ideas, t.ideas.c.post_id == p.c.id)
            .where(p.c.id == post_id, p.c.community_id == community_id, posts_visible_to(viewer))
        )
    ).first()
    if row is None or not (row.idea_id is not None or (row.extra or {}).get("idea")):
        raise NotFound("no such idea")
    return int(row.id)


async def support(
    ctx: Context, actor_id: int, community_id: int, post_id: int, *, on: bool = True
) -> None:
    """Support (or withdraw support from) an idea of a remote community: a like of its post."""
    async with ctx.db.read() as conn:
        if not await _is_remote(conn, community_id):
            raise NotFound("no such idea")
        await idea_post(conn, await posts.viewer_for_actor(conn, actor_id), community_id, post_id)
    await (posts.favourite if on else posts.unfavourite)(ctx, actor_id, post_id)


async def receive_outcome(
    conn: AsyncConnection,
    group_actor_id: int,
    post_uri: str | None,
    status: str,
    outcome: str,
    target_uri: str | None,
) -> int:
    """The home of a remote community reports what became of one of our members' ideas (the idea
    post ``post_uri``): our ``ideas`` row takes its state (``status``), and for ``roadmap`` the item
    it became (``target_uri``, when we hold it). Returns the idea's id; NotFound when it is not ours.
    """
    idea = (
        await conn.execute(
            sa.select(t.ideas.c.id)
            .join(t.posts, t.posts.c.id == t.ideas.c.post_id)
            .join(t.communities, t.communities.c.id == t.ideas.c.community_id)
            .where(
                t.posts.c.uri == post_uri,
                t.posts.c.local.is_(True),
                t.communities.c.actor_id == group_actor_id,
                t.communities.c.local.is_(False),
            )
        )
    ).scalar()
    if idea is None:
        raise NotFound("no idea of ours in that community")
    values: dict[str, Any] = {"status": status, "updated_at": clock.now()}
    if outcome == "roadmap":
        item = (
            await conn.execute(
                sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.uri == target_uri)
            )
        ).scalar()
        values |= {"promoted_kind": "roadmap", "promoted_to_id": item}
    elif outcome == "proposal":
        values["promoted_kind"] = "proposal"
    await conn.execute(t.ideas.update().where(t.ideas.c.id == idea).values(**values))
    return int(idea)
