"""Reading and clearing one's notifications; a notification's post is re-checked for visibility."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import NotFound
from server.services.timelines import Page, page_ids
from server.storage import schema as t
from server.storage.prepared import IDS, ME, Prepared, viewer_params
from server.visibility import Viewer, posts_visible_to

MASTODON_TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
)


def _mine(viewer: Viewer) -> sa.ColumnElement[bool]:
    n = t.notifications
    visible = sa.select(t.posts.c.id).where(posts_visible_to(viewer))
    return sa.and_(
        n.c.actor_id == viewer.actor_id, sa.or_(n.c.post_id.is_(None), n.c.post_id.in_(visible))
    )


async def list_ids(
    conn: AsyncConnection,
    viewer: Viewer,
    page: Page,
    *,
    types: list[str],
    exclude: list[str],
    from_account: int | None = None,
) -> list[int]:
    """Notification ids, newest first. Without ``types`` only Mastodon's own types are listed."""
    n = t.notifications
    q = sa.select(n.c.id).where(_mine(viewer), n.c.type.in_(types or MASTODON_TYPES))
    if exclude:
        q = q.where(n.c.type.not_in(exclude))
    if from_account is not None:
        q = q.where(n.c.from_actor_id == from_account)
    return await page_ids(conn, q, n.c.id, page)


async def rows(conn: AsyncConnection, ids: list[int]) -> list[sa.Row]:
    found = {
        r.id: r
        for r in await conn.execute(sa.select(t.notifications).where(t.notifications.c.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]


async def get(conn: AsyncConnection, viewer: Viewer, notification_id: int) -> sa.Row:
    row = (
        await conn.execute(
            sa.select(t.notifications).where(t.notifications.c.id == notification_id, _mine(viewer))
        )
    ).first()
    if row is None:
        raise NotFound("Record not found")
    return row


async def unread_count(conn: AsyncConnection, viewer: Viewer, *, also: Iterable[str] = ()) -> int:
    """Unread notifications of Mastodon's types, plus the Koers kinds ``also`` (those shown as one)."""
    n = t.notifications
    kinds = [*MASTODON_TYPES, *also]
    return (
        await conn.execute(
            sa.select(sa.func.count()).where(
                _mine(viewer), n.c.read.is_(False), n.c.type.in_(kinds)
            )
        )
    ).scalar_one()


UNREAD_SHOWN_CAP = 99  # the navigation says "99+" beyond it, as Mastodon's unread count caps
_UNREAD_CHUNK = 200


def _unread_chunk(older: bool) -> sa.Select:
    n = t.notifications
    q = sa.select(n.c.id, n.c.post_id).where(n.c.actor_id == ME, n.c.read.is_(False))
    if older:
        q = q.where(n.c.id < sa.bindparam("before", type_=t.Id))
    return q.order_by(n.c.id.desc()).limit(_UNREAD_CHUNK)


# built once (``storage.prepared``): every signed-in page runs them
_UNREAD = Prepared(_unread_chunk)
_VISIBLE_POSTS = Prepared(
    lambda viewer: sa.select(t.posts.c.id).where(t.posts.c.id.in_(IDS), posts_visible_to(viewer))
)


async def unread_shown(conn: AsyncConnection, viewer: Viewer, cap: int = UNREAD_SHOWN_CAP) -> int:
    """Unread notifications of every kind the notifications page shows (the navigation's count),
    counted up to ``cap + 1``: every signed-in page asks, so the cost is bounded by the cap, not
    by how many a member left unread. One about a post the viewer may no longer see does not
    count, as the page leaves it out; only the posts of the notifications read are checked."""
    counted = 0
    before: int | None = None
    while counted <= cap:
        chunk = _UNREAD.get(None, before is not None)
        rows = list(await conn.execute(chunk, {"me": viewer.actor_id, "before": before}))
        if not rows:
            break
        post_ids = {r.post_id for r in rows if r.post_id is not None}
        visible: set[int] = set()
        if post_ids:
            params = {**viewer_params(viewer), "ids": sorted(post_ids)}
            visible = set((await conn.execute(_VISIBLE_POSTS.get(viewer), params)).scalars())
        counted += sum(1 for r in rows if r.post_id is None or r.post_id in visible)
        if len(rows) < _UNREAD_CHUNK:
            break
        before = rows[-1].id
    return min(counted, cap + 1)


async def dismiss(ctx: Context, actor_id: int, notification_id: int | None = None) -> None:
    """Delete one notification (or, with None, all of them)."""
    n = t.notifications
    async with ctx.db.write() as conn:
        q = n.delete().where(n.c.actor_id == actor_id)
        if notification_id is not None:
            q = q.where(n.c.id == notification_id)
        res = await conn.execute(q)
        if notification_id is not None and not res.rowcount:
            raise NotFound("Record not found")


async def newest_of(
    conn: AsyncConnection, actor_id: int, max_id: int | None, limit: int
) -> list[sa.Row]:
    """A page of a member's notifications, newest first, older than ``max_id`` when given."""
    n = t.notifications
    q = sa.select(n).where(n.c.actor_id == actor_id)
    if max_id is not None:
        q = q.where(n.c.id < max_id)
    return list(await conn.execute(q.order_by(n.c.id.desc()).limit(limit)))


async def mark_all_read(ctx: Context, actor_id: int) -> None:
    """Mark every unread notification of a member as read."""
    n = t.notifications
    async with ctx.db.write() as conn:
        await conn.execute(
            n.update().where(n.c.actor_id == actor_id, n.c.read.is_(False)).values(read=True)
        )


async def decision_polls(conn: AsyncConnection, rows: Iterable[sa.Row]) -> dict[int, int]:
    """Notification id -> the poll post of the decision a ``koers.decision_closed`` row names."""
    named = {
        r.id: r.extra["decision_id"]
        for r in rows
        if r.type == "koers.decision_closed" and isinstance((r.extra or {}).get("decision_id"), int)
    }
    if not named:
        return {}
    pd = t.purpose_decisions
    found = await conn.execute(
        sa.select(pd.c.id, pd.c.post_id).where(
            pd.c.id.in_(set(named.values())), pd.c.post_id.is_not(None)
        )
    )
    poll_of = {int(i): int(p) for i, p in found}
    return {row_id: poll_of[d] for row_id, d in named.items() if d in poll_of}
