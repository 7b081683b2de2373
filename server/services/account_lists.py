"""Accounts as the client API lists and finds them: pages of followers, follows, likers, boosters,
list members, blocks, mutes and follow requests (paged on the row id, each with its actor), an
account by ``acct``, and the relations the relationship endpoints need.

A page is ``(row ids, actor ids)``: the row ids make the ``Link`` header, the actor ids the
accounts, in the same order.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import NotFound
from server.services import accounts
from server.services.timelines import Page, page_ids
from server.storage import schema as t
from server.visibility import Viewer, can_see_members, memberships_shown_to

ActorPage = tuple[list[int], list[int]]


async def page_of_pairs(conn: AsyncConnection, query: sa.Select, page: Page) -> ActorPage:
    """A page of a query selecting ``(row id, other id)``, paged on the row id: the row ids and,
    in their order, the other ids (an actor, a post)."""
    id_col, other_col = query.selected_columns
    ids = await page_ids(conn, query.with_only_columns(id_col), id_col, page)
    by = {
        r[0]: r[1] for r in await conn.execute(sa.select(id_col, other_col).where(id_col.in_(ids)))
    }
    return ids, [by[i] for i in ids if i in by]


async def visible_actor(conn: AsyncConnection, actor_id: int) -> sa.Row:
    """The actor ``actor_id``; NotFound when unknown or suspended."""
    row = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).first()
    if row is None or row.suspended:
        raise NotFound("Record not found")
    return row


async def actor_by_acct(conn: AsyncConnection, username: str, domain: str | None) -> int | None:
    """The id of the unsuspended actor ``username`` (any case) on ``domain`` (None: local)."""
    cond = t.actors.c.domain.is_(None) if domain is None else t.actors.c.domain == domain
    return (
        await conn.execute(
            sa.select(t.actors.c.id).where(
                sa.func.lower(t.actors.c.username) == username.lower(),
                cond,
                t.actors.c.suspended.is_(False),
            )
        )
    ).scalar()


_FOLLOW_REQUESTS = (
    sa.select(sa.func.count())
    .select_from(t.follows)
    .where(
        t.follows.c.target_id == sa.bindparam("actor_id", type_=t.Id),
        t.follows.c.state == "pending",
    )
)


async def count_follow_requests(conn: AsyncConnection, actor_id: int) -> int:
    """How many follow requests wait for ``actor_id``'s answer."""
    return int((await conn.execute(_FOLLOW_REQUESTS, {"actor_id": actor_id})).scalar_one())


async def follows_of(
    conn: AsyncConnection, viewer: Viewer, actor: sa.Row, page: Page, *, followers: bool
) -> ActorPage | None:
    """A page of ``actor``'s followers (or of whom it follows), as ``viewer`` may see them.

    None for a community whose member list ``viewer`` may not see; a membership (a follow of a
    Group) is listed only to those who may see that Group's member list.
    """
    f = t.follows
    if actor.kind == "group":
        community = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == actor.id)
            )
        ).scalar()
        if community is not None and not await can_see_members(conn, viewer, community):
            return None
    mine, other = (
        (f.c.target_id, f.c.follower_id) if followers else (f.c.follower_id, f.c.target_id)
    )
    q = sa.select(f.c.id, other).where(mine == actor.id, f.c.state == "accepted")
    if not followers:
        q = q.where(memberships_shown_to(viewer, f.c.target_id))
    return await page_of_pairs(conn, q, page)


async def favourited_by(conn: AsyncConnection, post_id: int, page: Page) -> ActorPage:
    """Who liked a post."""
    f = t.favourites
    return await page_of_pairs(
        conn, sa.select(f.c.id, f.c.actor_id).where(f.c.post_id == post_id), page
    )


async def reblogged_by(conn: AsyncConnection, post_id: int, page: Page) -> ActorPage:
    """Who boosted a post (boosts not undone)."""
    p = t.posts
    return await page_of_pairs(
        conn,
        sa.select(p.c.id, p.c.author_id).where(
            p.c.reblog_of_id == post_id, p.c.deleted_at.is_(None)
        ),
        page,
    )


async def follow_requests_to(conn: AsyncConnection, actor_id: int, page: Page) -> ActorPage:
    """Who asked to follow ``actor_id``."""
    f = t.follows
    return await page_of_pairs(
        conn,
        sa.select(f.c.id, f.c.follower_id).where(f.c.target_id == actor_id, f.c.state == "pending"),
        page,
    )


async def blocked_by(conn: AsyncConnection, actor_id: int, page: Page) -> ActorPage:
    """Whom ``actor_id`` blocks."""
    b = t.blocks
    return await page_of_pairs(
        conn, sa.select(b.c.id, b.c.target_id).where(b.c.actor_id == actor_id), page
    )


async def muted_by(conn: AsyncConnection, actor_id: int, page: Page) -> ActorPage:
    """Whom ``actor_id`` mutes."""
    m = t.mutes
    return await page_of_pairs(
        conn, sa.select(m.c.id, m.c.target_id).where(m.c.actor_id == actor_id), page
    )


async def domain_of(conn: AsyncConnection, actor_id: int) -> str | None:
    """The domain of an actor (None: local, or no such actor)."""
    return (
        await conn.execute(sa.select(t.actors.c.domain).where(t.actors.c.id == actor_id))
    ).scalar()


async def known_actors(conn: AsyncConnection, actor_ids: list[int]) -> set[int]:
    """Which of ``actor_ids`` name an actor we have."""
    if not actor_ids:
        return set()
    return {
        r[0]
        for r in await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.id.in_(actor_ids)))
    }


async def familiar_followers(
    conn: AsyncConnection, me: int, other: int, limit: int = 20
) -> list[int]:
    """Followers of ``other`` whom ``me`` follows."""
    f, mine = t.follows, t.follows.alias("mine")
    rows = await conn.execute(
        sa.select(f.c.follower_id)
        .join(
            mine,
            sa.and_(
                mine.c.target_id == f.c.follower_id,
                mine.c.follower_id == me,
                mine.c.state == "accepted",
            ),
        )
        .where(f.c.target_id == other, f.c.state == "accepted")
        .limit(limit)
    )
    return [r[0] for r in rows]


async def suggested_accounts(conn: AsyncConnection, me: int, limit: int) -> list[tuple[int, str]]:
    """Whom to suggest to ``me``, with Mastodon's source: people sharing competencies first
    (``similar_to_recently_followed``), then fellow members of one's communities (``featured``);
    none already followed."""
    followed = {
        r[0]
        for r in await conn.execute(
            sa.select(t.follows.c.target_id).where(t.follows.c.follower_id == me)
        )
    }
    out: dict[int, str] = {}
    for row in await accounts.people_sharing_competencies(conn, me, limit=limit * 2):
        if row.id not in followed:
            out.setdefault(row.id, "similar_to_recently_followed")
    mine = sa.select(t.follows.c.target_id).where(
        t.follows.c.follower_id == me, t.follows.c.state == "accepted"
    )
    groups = sa.select(t.communities.c.actor_id).where(t.communities.c.actor_id.in_(mine))
    for (other,) in await conn.execute(
        sa.select(t.follows.c.follower_id)
        .distinct()
        .join(t.actors, t.actors.c.id == t.follows.c.follower_id)
        .where(
            t.follows.c.target_id.in_(groups),
            t.follows.c.state == "accepted",
            t.follows.c.follower_id != me,
            t.actors.c.discoverable.is_(True),
            t.actors.c.suspended.is_(False),
        )
        .limit(limit * 2)
    ):
        if other not in followed:
            out.setdefault(other, "featured")
    out.pop(me, None)
    return list(out.items())[:limit]
