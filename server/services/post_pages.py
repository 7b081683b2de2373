"""One post as its pages show it: the post itself when the viewer may see it (NotFound when
hidden or unknown, Gone when deleted), its earlier versions, its source, who liked or boosted it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import Gone, NotFound
from server.services.views import PostView, load_posts
from server.storage import schema as t
from server.visibility import Viewer, can_see_post


async def visible_post(
    conn: AsyncConnection, ctx: Context, who: Viewer, post_id: int, username: str | None
) -> PostView:
    """The post as ``who`` may see it: NotFound when hidden or unknown, Gone when deleted."""
    row = (
        await conn.execute(
            sa.select(
                t.posts.c.id,
                t.posts.c.deleted_at,
                t.posts.c.reblog_of_id,
                t.actors.c.username,
                t.actors.c.domain,
            )
            .join(t.actors, t.actors.c.id == t.posts.c.author_id)
            .where(t.posts.c.id == post_id)
        )
    ).first()
    if (
        row is None
        or row.domain is not None
        or (username is not None and row.username != username.lower())
    ):
        raise NotFound("no such post")
    if row.deleted_at is not None:
        raise Gone("this post has been deleted")
    if row.reblog_of_id is not None or not await can_see_post(conn, who, post_id):
        raise NotFound("no such post")
    views = await load_posts(conn, who, [post_id], base=ctx.base, local_domain=ctx.settings.domain)
    if not views:
        raise NotFound("no such post")
    return views[0]


async def edits_of(conn: AsyncConnection, post_id: int, *, newest_first: bool) -> list[sa.Row]:
    """The earlier versions of a post (``post_edits`` rows)."""
    order = t.post_edits.c.id.desc() if newest_first else t.post_edits.c.id
    return list(
        await conn.execute(
            sa.select(t.post_edits).where(t.post_edits.c.post_id == post_id).order_by(order)
        )
    )


async def post_of_poll(conn: AsyncConnection, poll_id: int) -> int | None:
    """The id of the post a poll belongs to, or None when there is no such poll."""
    return (
        await conn.execute(sa.select(t.polls.c.post_id).where(t.polls.c.id == poll_id))
    ).scalar()


async def post_row(conn: AsyncConnection, post_id: int) -> sa.Row:
    """The ``posts`` row of a post known to exist (its source, its author)."""
    return (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()
