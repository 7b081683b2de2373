"""Lists of accounts (Mastodon's lists), plus one auto-managed list per joined community.

An auto-managed list (``lists.community_id`` set) mirrors a community the member has joined: its
timeline is the community's feed, it cannot be edited, and it goes away when the member leaves.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import NotFound, ValidationError
from server.i18n.messages import Message
from server.services import timelines
from server.services.account_lists import ActorPage, page_of_pairs
from server.services.timelines import Page, page_ids
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Viewer, listed_for

REPLIES_POLICIES = ("followed", "list", "none")


def _check(title: str | None, policy: str | None) -> None:
    if title is not None and (not title.strip() or len(title) > 255):
        raise ValidationError("title: 1 to 255 characters", field="title")
    if policy is not None and policy not in REPLIES_POLICIES:
        raise ValidationError(
            Message("replies_policy: one of %(choices)s", choices=", ".join(REPLIES_POLICIES)),
            field="replies_policy",
        )


async def sync_community_lists(ctx: Context, actor_id: int) -> None:
    """Create the lists of newly joined communities and drop those of communities left."""
    async with ctx.db.read() as conn:
        joined = {
            r.id: r.name
            for r in await conn.execute(
                sa.select(t.communities.c.id, t.communities.c.name)
                .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
                .where(t.follows.c.follower_id == actor_id, t.follows.c.state == "accepted")
            )
        }
        have = {
            r.community_id: r.id
            for r in await conn.execute(
                sa.select(t.lists.c.id, t.lists.c.community_id).where(
                    t.lists.c.owner_id == actor_id, t.lists.c.community_id.is_not(None)
                )
            )
        }
    missing = set(joined) - set(have)
    gone = set(have) - set(joined)
    if not missing and not gone:
        return
    async with ctx.db.write() as conn:
        for cid in sorted(missing):
            await conn.execute(
                t.lists.insert().values(
                    owner_id=actor_id,
                    title=joined[cid],
                    replies_policy="list",
                    exclusive=False,
                    community_id=cid,
                    created_at=clock.now(),
                )
            )
        if gone:
            await conn.execute(t.lists.delete().where(t.lists.c.id.in_([have[c] for c in gone])))


async def all_lists(conn: AsyncConnection, actor_id: int) -> list[sa.Row]:
    return list(
        await conn.execute(
            sa.select(t.lists).where(t.lists.c.owner_id == actor_id).order_by(t.lists.c.id)
        )
    )


async def own_list(conn: AsyncConnection, actor_id: int, list_id: int) -> sa.Row:
    row = (
        await conn.execute(
            sa.select(t.lists).where(t.lists.c.id == list_id, t.lists.c.owner_id == actor_id)
        )
    ).first()
    if row is None:
        raise NotFound("Record not found")
    return row


async def create_list(
    ctx: Context, actor_id: int, title: str, replies_policy: str = "list", exclusive: bool = False
) -> int:
    _check(title, replies_policy)
    async with ctx.db.write() as conn:
        res = await conn.execute(
            t.lists.insert().values(
                owner_id=actor_id,
                title=title.strip(),
                replies_policy=replies_policy,
                exclusive=exclusive,
                created_at=clock.now(),
            )
        )
        return inserted_id(res)


async def _editable(conn: AsyncConnection, actor_id: int, list_id: int) -> sa.Row:
    row = await own_list(conn, actor_id, list_id)
    if row.community_id is not None:
        raise ValidationError(
            "this list mirrors a community you joined; join or leave the community instead",
            field="id",
        )
    return row


async def update_list(
    ctx: Context,
    actor_id: int,
    list_id: int,
    *,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> None:
    _check(title, replies_policy)
    values: dict[str, object] = {}
    if title is not None:
        values["title"] = title.strip()
    if replies_policy is not None:
        values["replies_policy"] = replies_policy
    if exclusive is not None:
        values["exclusive"] = exclusive
    async with ctx.db.write() as conn:
        await _editable(conn, actor_id, list_id)
        if values:
            await conn.execute(t.lists.update().where(t.lists.c.id == list_id).values(**values))


async def delete_list(ctx: Context, actor_id: int, list_id: int) -> None:
    async with ctx.db.write() as conn:
        await _editable(conn, actor_id, list_id)
        await conn.execute(t.list_members.delete().where(t.list_members.c.list_id == list_id))
        await conn.execute(t.lists.delete().where(t.lists.c.id == list_id))


async def add_accounts(ctx: Context, actor_id: int, list_id: int, account_ids: list[int]) -> None:
    """Add accounts the member follows (as Mastodon requires)."""
    async with ctx.db.write() as conn:
        await _editable(conn, actor_id, list_id)
        followed = {
            r[0]
            for r in await conn.execute(
                sa.select(t.follows.c.target_id).where(
                    t.follows.c.follower_id == actor_id,
                    t.follows.c.state == "accepted",
                    t.follows.c.target_id.in_(account_ids),
                )
            )
        }
        if set(account_ids) - followed:
            raise ValidationError("you can only add accounts you follow", field="account_ids")
        present = {
            r[0]
            for r in await conn.execute(
                sa.select(t.list_members.c.actor_id).where(t.list_members.c.list_id == list_id)
            )
        }
        new = [a for a in dict.fromkeys(account_ids) if a not in present]
        if new:
            await conn.execute(
                t.list_members.insert(), [{"list_id": list_id, "actor_id": a} for a in new]
            )


async def remove_accounts(
    ctx: Context, actor_id: int, list_id: int, account_ids: list[int]
) -> None:
    async with ctx.db.write() as conn:
        await _editable(conn, actor_id, list_id)
        await conn.execute(
            t.list_members.delete().where(
                t.list_members.c.list_id == list_id, t.list_members.c.actor_id.in_(account_ids)
            )
        )


def member_query(row: sa.Row) -> sa.Select:
    """Ids (of list_members, or of follows for a community list) and the member actor, for paging."""
    if row.community_id is not None:
        group = (
            sa.select(t.communities.c.actor_id)
            .where(t.communities.c.id == row.community_id)
            .scalar_subquery()
        )
        return sa.select(t.follows.c.id, t.follows.c.follower_id).where(
            t.follows.c.target_id == group, t.follows.c.state == "accepted"
        )
    return sa.select(t.list_members.c.id, t.list_members.c.actor_id).where(
        t.list_members.c.list_id == row.id
    )


async def members_page(conn: AsyncConnection, row: sa.Row, page: Page) -> ActorPage:
    """A page of a list's members (``member_query``): the row ids and the member actors."""
    return await page_of_pairs(conn, member_query(row), page)


async def timeline(conn: AsyncConnection, viewer: Viewer, row: sa.Row, page: Page) -> list[int]:
    """A list's timeline: a community list shows the community's, others their members' posts."""
    if row.community_id is not None:
        return await timelines.community(conn, viewer, row.community_id, page)
    posts = t.posts
    members = sa.select(t.list_members.c.actor_id).where(t.list_members.c.list_id == row.id)
    q = sa.select(posts.c.id).where(posts.c.author_id.in_(members), listed_for(viewer))
    return await page_ids(conn, q, posts.c.id, page)
