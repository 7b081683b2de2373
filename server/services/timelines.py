"""Timelines and listings: which post ids a viewer gets, newest first, paged by id.

Every query here is built on ``visibility.posts_visible_to`` / ``listed_for``; nothing else filters.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t
from server.visibility import Audience, Viewer, listed_for, posts_visible_to

MAX_LIMIT = 40


@dataclass(frozen=True, slots=True)
class Page:
    """Mastodon-style paging: ``max_id`` (older than), ``since_id`` (newer than), ``min_id``
    (immediately newer than, ascending), ``limit``."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def clamp(self) -> Page:
        return Page(self.max_id, self.since_id, self.min_id, max(1, min(self.limit, MAX_LIMIT)))


async def page_ids(
    conn: AsyncConnection, query: sa.Select, id_col: sa.ColumnElement, page: Page
) -> list[int]:
    """Apply a Page to a query selecting ids; returns ids newest first."""
    page = page.clamp()
    if page.max_id is not None:
        query = query.where(id_col < page.max_id)
    if page.since_id is not None:
        query = query.where(id_col > page.since_id)
    if page.min_id is not None:
        query = query.where(id_col > page.min_id).order_by(id_col.asc()).limit(page.limit)
        ids = [r[0] for r in await conn.execute(query)]
        return list(reversed(ids))
    query = query.order_by(id_col.desc()).limit(page.limit)
    return [r[0] for r in await conn.execute(query)]


def _not_muted_or_blocked(viewer: Viewer) -> sa.ColumnElement[bool]:
    me = viewer.actor_id
    if me is None:
        return sa.true()
    p = t.posts
    author = t.actors.alias(
        "domain_blocked_author"
    )  # an alias: never correlated with an outer actors
    udb = t.user_domain_blocks
    return sa.and_(
        ~sa.exists(
            sa.select(1).where(t.mutes.c.actor_id == me, t.mutes.c.target_id == p.c.author_id)
        ),
        ~sa.exists(
            sa.select(1).where(t.blocks.c.actor_id == me, t.blocks.c.target_id == p.c.author_id)
        ),
        # The member's own domain blocks hide every post written on those servers.
        ~sa.exists(
            sa.select(1)
            .select_from(udb.join(author, author.c.domain == udb.c.domain))
            .where(udb.c.actor_id == me, author.c.id == p.c.author_id)
        ),
    )


async def home(conn: AsyncConnection, viewer: Viewer, page: Page) -> list[int]:
    """The central news feed: own posts, people followed, and everything in joined communities."""
    me = viewer.actor_id
    assert me is not None
    p = t.posts
    followed = sa.select(t.follows.c.target_id).where(
        t.follows.c.follower_id == me, t.follows.c.state == "accepted"
    )
    joined = (
        sa.select(t.communities.c.id)
        .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
        .where(t.follows.c.follower_id == me, t.follows.c.state == "accepted")
    )
    no_boosts_from = sa.select(t.follows.c.target_id).where(
        t.follows.c.follower_id == me, t.follows.c.show_reblogs.is_(False)
    )
    q = sa.select(p.c.id).where(
        sa.or_(p.c.author_id == me, p.c.author_id.in_(followed), p.c.community_id.in_(joined)),
        posts_visible_to(viewer),
        _not_muted_or_blocked(viewer),
        sa.or_(p.c.reblog_of_id.is_(None), p.c.author_id.not_in(no_boosts_from)),
    )
    return await page_ids(conn, q, p.c.id, page)


async def public(
    conn: AsyncConnection,
    viewer: Viewer,
    page: Page,
    *,
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> list[int]:
    p = t.posts
    q = sa.select(p.c.id).where(
        p.c.audience == Audience.PUBLIC.value,
        p.c.reblog_of_id.is_(None),
        posts_visible_to(viewer),
        _not_muted_or_blocked(viewer),
    )
    if local:
        q = q.where(p.c.local.is_(True))
    if remote:
        q = q.where(p.c.local.is_(False))
    if only_media:
        q = q.where(sa.exists(sa.select(1).where(t.media.c.post_id == p.c.id)))
    return await page_ids(conn, q, p.c.id, page)


async def tag(
    conn: AsyncConnection, viewer: Viewer, name: str, page: Page, *, local: bool = False
) -> list[int]:
    p = t.posts
    q = sa.select(p.c.id).where(
        p.c.id.in_(sa.select(t.post_tags.c.post_id).where(t.post_tags.c.tag == name.lower())),
        listed_for(viewer),
        _not_muted_or_blocked(viewer),
    )
    if local:
        q = q.where(p.c.local.is_(True))
    return await page_ids(conn, q, p.c.id, page)


async def profile(
    conn: AsyncConnection,
    viewer: Viewer,
    actor_id: int,
    page: Page,
    *,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    only_media: bool = False,
    only_results: bool = False,
    exclude_results: bool = False,
    tagged: str | None = None,
    pinned: bool = False,
) -> list[int]:
    """Posts on a profile. Unlisted posts show to the author only (DESIGN: "not listed")."""
    p = t.posts
    cond = posts_visible_to(viewer) if viewer.actor_id == actor_id else listed_for(viewer)
    q = sa.select(p.c.id).where(p.c.author_id == actor_id, cond)
    if exclude_replies:
        q = q.where(p.c.in_reply_to_id.is_(None), p.c.in_reply_to_uri.is_(None))
    if exclude_reblogs:
        q = q.where(p.c.reblog_of_id.is_(None))
    if only_media:
        q = q.where(sa.exists(sa.select(1).where(t.media.c.post_id == p.c.id)))
    if only_results:
        q = q.where(p.c.kind == "result")
    if exclude_results:
        q = q.where(p.c.kind != "result")
    if tagged:
        q = q.where(
            p.c.id.in_(sa.select(t.post_tags.c.post_id).where(t.post_tags.c.tag == tagged.lower()))
        )
    if pinned:
        q = q.where(p.c.id.in_(sa.select(t.pins.c.post_id).where(t.pins.c.actor_id == actor_id)))
    return await page_ids(conn, q, p.c.id, page)


async def community(
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    page: Page,
    *,
    only_results: bool = False,
    role_id: int | None = None,
    roadmap_item_id: int | None = None,
) -> list[int]:
    """A community's feed (posts and results addressed to it), as the viewer may see it."""
    p = t.posts
    q = sa.select(p.c.id).where(
        p.c.community_id == community_id, p.c.reblog_of_id.is_(None), listed_for(viewer)
    )
    if only_results:
        q = q.where(p.c.kind == "result")
    if role_id is not None:
        q = q.where(
            p.c.id.in_(
                sa.select(t.result_roles.c.post_id).where(t.result_roles.c.role_id == role_id)
            )
        )
    if roadmap_item_id is not None:
        q = q.where(p.c.roadmap_item_id == roadmap_item_id)
    return await page_ids(conn, q, p.c.id, page)


async def results(conn: AsyncConnection, viewer: Viewer, page: Page) -> list[int]:
    """The instance's results, as the viewer may see them (public ones for anonymous visitors)."""
    p = t.posts
    q = sa.select(p.c.id).where(p.c.kind == "result", p.c.local.is_(True), listed_for(viewer))
    return await page_ids(conn, q, p.c.id, page)


async def thread(
    conn: AsyncConnection, viewer: Viewer, post_id: int
) -> tuple[list[int], list[int]]:
    """(ancestors oldest first, descendants in reading order) of a post, as the viewer may see them."""
    p = t.posts
    ancestors: list[int] = []
    current = (await conn.execute(sa.select(p.c.in_reply_to_id).where(p.c.id == post_id))).scalar()
    seen = {post_id}
    while current is not None and current not in seen and len(ancestors) < 100:
        seen.add(current)
        row = (
            await conn.execute(
                sa.select(p.c.id, p.c.in_reply_to_id).where(
                    p.c.id == current, posts_visible_to(viewer)
                )
            )
        ).first()
        if row is None:
            break
        ancestors.append(row.id)
        current = row.in_reply_to_id
    ancestors.reverse()
    root = ancestors[0] if ancestors else post_id
    rows = list(
        await conn.execute(
            sa.select(p.c.id, p.c.in_reply_to_id)
            .where(
                sa.or_(p.c.thread_root_id == root, p.c.thread_root_id == post_id),
                posts_visible_to(viewer),
            )
            .order_by(p.c.id)
        )
    )
    children: dict[int, list[int]] = {}
    for r in rows:
        children.setdefault(r.in_reply_to_id, []).append(r.id)
    descendants: list[int] = []

    def walk(node: int) -> None:
        for child in children.get(node, []):
            if child not in seen:
                seen.add(child)
                descendants.append(child)
                walk(child)

    walk(post_id)
    return ancestors, descendants


async def search_posts(conn: AsyncConnection, viewer: Viewer, query: str, page: Page) -> list[int]:
    """Full-text-ish search over post text (LIKE), limited to what the viewer may see."""
    q_text = query.strip().lower()
    if not q_text:
        return []
    p = t.posts
    pattern = "%" + q_text.replace("\\", "").replace("%", r"\%").replace("_", r"\_") + "%"
    q = sa.select(p.c.id).where(
        sa.or_(
            sa.func.lower(p.c.source).like(pattern, escape="\\"),
            sa.func.lower(p.c.content_html).like(pattern, escape="\\"),
        ),
        p.c.reblog_of_id.is_(None),
        posts_visible_to(viewer),
    )
    return await page_ids(conn, q, p.c.id, page)
