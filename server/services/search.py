"""Search: accounts by handle or name, posts by address, hashtags by prefix.

Full-text search of posts is ``timelines.search_posts`` (it pages like a timeline) over the
index of ``server/storage/fulltext.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.storage import schema as t
from server.visibility import Viewer, can_see_post


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", r"\%").replace("_", r"\_")


async def find_accounts(
    conn: AsyncConnection,
    c: Context,
    q: str,
    *,
    limit: int = 40,
    offset: int = 0,
    following_of: int | None = None,
) -> list[int]:
    """Actor ids whose handle or name matches ``q`` (``user``, ``@user``, ``user@host``)."""
    text = q.strip().lstrip("@").lower()
    if not text:
        return []
    user, _, host = text.partition("@")
    a = t.actors
    cond = sa.or_(
        sa.func.lower(a.c.username).like(_like(user) + "%", escape="\\"),
        sa.func.lower(a.c.display_name).like("%" + _like(text) + "%", escape="\\"),
    )
    if host:
        local = host in (c.settings.domain.lower(), c.settings.hostname.lower())
        cond = sa.and_(
            sa.func.lower(a.c.username) == user,
            a.c.domain.is_(None) if local else a.c.domain == host,
        )
    query = sa.select(a.c.id).where(
        cond, a.c.suspended.is_(False), a.c.kind.in_(["person", "group", "organization"])
    )
    if following_of is not None:
        query = query.where(
            a.c.id.in_(
                sa.select(t.follows.c.target_id).where(t.follows.c.follower_id == following_of)
            )
        )
    exact = sa.case((sa.func.lower(a.c.username) == user, 0), else_=1)
    query = query.order_by(exact, a.c.domain.is_not(None), a.c.username).limit(limit).offset(offset)
    return [r[0] for r in await conn.execute(query)]


async def statuses_by_url(conn: AsyncConnection, viewer: Viewer, q: str) -> list[int]:
    """The post whose id or page address is ``q``, when ``viewer`` may see it."""
    p = t.posts
    rows = await conn.execute(sa.select(p.c.id).where(sa.or_(p.c.uri == q, p.c.url == q)).limit(1))
    return [r[0] for r in rows if await can_see_post(conn, viewer, r[0])]


async def find_tags(conn: AsyncConnection, prefix: str, *, limit: int, offset: int) -> list[str]:
    """Hashtags in use that start with ``prefix``, in order."""
    rows = await conn.execute(
        sa.select(t.post_tags.c.tag)
        .distinct()
        .where(t.post_tags.c.tag.like(_like(prefix) + "%", escape="\\"))
        .order_by(t.post_tags.c.tag)
        .limit(limit)
        .offset(offset)
    )
    return [r[0] for r in rows]


async def find_communities(conn: AsyncConnection, q: str, *, limit: int = 10) -> list[sa.Row]:
    """Communities (this organisation's first, then known remote ones) whose name or handle
    matches ``q``; every community's page is public, as on ``/communities``."""
    text = q.strip().lstrip("!@").lower()[:100]
    if not text:
        return []
    like = "%" + _like(text) + "%"
    c, a = t.communities, t.actors
    return list(
        await conn.execute(
            sa.select(c, a.c.username.label("handle"), a.c.domain, a.c.summary_html)
            .join(a, a.c.id == c.c.actor_id)
            .where(
                a.c.suspended.is_(False),
                sa.or_(
                    sa.func.lower(c.c.name).like(like, escape="\\"),
                    sa.func.lower(a.c.username).like(like, escape="\\"),
                ),
            )
            .order_by(c.c.local.desc(), sa.func.lower(c.c.name))
            .limit(limit)
        )
    )
