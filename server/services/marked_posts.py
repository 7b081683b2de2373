"""Posts a member marked or takes part in: bookmarks, favourites and pins (setting and listing
them), and the direct posts behind the conversations list."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.services import posts
from server.services.account_lists import ActorPage, page_of_pairs
from server.services.timelines import Page, page_ids
from server.storage import schema as t
from server.visibility import Audience, Viewer, posts_visible_to

MARKS = {"bookmark": t.bookmarks, "favourite": t.favourites, "pin": t.pins}


async def set_mark(ctx: Context, actor_id: int, post_id: int, mark: str, on: bool) -> int:
    """Bookmark or pin a post (``mark``: a key of ``MARKS``), or take the mark away."""
    return await posts.set_flag(ctx, actor_id, post_id, MARKS[mark], on)


async def marked(conn: AsyncConnection, viewer: Viewer, mark: str, page: Page) -> ActorPage:
    """A page of the posts ``viewer`` marked and may still see: ``(mark row ids, post ids)``."""
    table = MARKS[mark]
    q = sa.select(table.c.id, table.c.post_id).where(
        table.c.actor_id == viewer.actor_id,
        table.c.post_id.in_(sa.select(t.posts.c.id).where(posts_visible_to(viewer))),
    )
    return await page_of_pairs(conn, q, page)


async def direct_ids(conn: AsyncConnection, viewer: Viewer, pg: Page) -> list[int]:
    """Direct posts the viewer wrote or was mentioned in."""
    p = t.posts
    q = sa.select(p.c.id).where(p.c.audience == Audience.DIRECT.value, posts_visible_to(viewer))
    return await page_ids(conn, q, p.c.id, pg)


async def thread_root(conn: AsyncConnection, post_id: int) -> int:
    """The first post of the thread ``post_id`` is in (itself when it starts one)."""
    return int(
        (
            await conn.execute(
                sa.select(sa.func.coalesce(t.posts.c.thread_root_id, t.posts.c.id)).where(
                    t.posts.c.id == post_id
                )
            )
        ).scalar_one()
    )
