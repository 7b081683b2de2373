"""The versioned purpose of a community: every change keeps the earlier versions, who and why.

A community manager decides a change (directly, or by closing a decision: see
``server.services.purpose_decisions``); every member is asked to endorse the new version
(``koers.endorse_requested``) and federation turns the ``purpose.changed`` event into an ``Update``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server import event_kinds as kinds
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.events import Event
from server.i18n.messages import Message
from server.services import hot_rows, notifications, text
from server.storage import schema as t
from server.storage.rows import inserted_id

MAX_PURPOSE = 5000
MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class PurposeVersion:
    """One accepted version of a purpose statement."""

    id: int
    version: int
    text_source: str
    text_html: str
    reason: str
    author_username: str | None
    author_name: str | None
    uri: str | None
    created_at: datetime


def check_text(source: str) -> str:
    """A purpose statement must say something and stay readable."""
    if not source.strip():
        raise ValidationError("purpose: write what the community works towards", field="purpose")
    if len(source) > MAX_PURPOSE:
        raise ValidationError(
            Message("purpose: at most %(num)s characters", num=MAX_PURPOSE), field="purpose"
        )
    return source


async def insert_version(
    conn: AsyncConnection,
    *,
    base: str,
    community_id: int,
    handle: str,
    version: int,
    source: str,
    reason: str,
    author_id: int | None,
) -> int:
    """Store one purpose version (inside the caller's write transaction); returns its row id."""
    res = await conn.execute(
        t.purpose_versions.insert().values(
            community_id=community_id,
            version=version,
            text_source=source,
            text_html=text.render(source).html,
            reason=reason.strip(),
            author_id=author_id,
            uri=urls.purpose_version(base, handle, version),
            created_at=clock.now(),
        )
    )
    return inserted_id(res)


def _select() -> sa.Select:
    pv = t.purpose_versions
    return sa.select(
        pv,
        t.actors.c.username.label("author_username"),
        t.actors.c.display_name.label("author_name"),
    ).select_from(pv.outerjoin(t.actors, t.actors.c.id == pv.c.author_id))


def _version(row: sa.Row) -> PurposeVersion:
    return PurposeVersion(
        id=row.id,
        version=row.version,
        text_source=row.text_source,
        text_html=row.text_html,
        reason=row.reason or "",
        author_username=row.author_username,
        author_name=row.author_name or row.author_username,
        uri=row.uri,
        created_at=clock.aware(row.created_at),
    )


async def current(conn: AsyncConnection, community_id: int) -> PurposeVersion | None:
    """The newest version, or None for a community without a purpose (remote ones)."""
    row = (
        await conn.execute(
            _select()
            .where(t.purpose_versions.c.community_id == community_id)
            .order_by(t.purpose_versions.c.version.desc())
            .limit(1)
        )
    ).first()
    return _version(row) if row else None


async def current_shown(conn: AsyncConnection, community_id: int) -> PurposeVersion | None:
    """``current`` through ``hot_rows.purposes``, for what pages show (every community page and
    the list of communities); decisions in a transaction read ``current``."""
    cache = hot_rows.purposes(hot_rows.engine_of(conn))
    return await hot_rows.through(cache, community_id, lambda: current(conn, community_id))


async def history(conn: AsyncConnection, community_id: int) -> list[PurposeVersion]:
    """Every version, newest first."""
    rows = await conn.execute(
        _select()
        .where(t.purpose_versions.c.community_id == community_id)
        .order_by(t.purpose_versions.c.version.desc())
    )
    return [_version(r) for r in rows]


async def change_purpose(
    ctx: Context, actor_id: int, community_id: int, new_text: str, reason: str
) -> int:
    """A manager sets a new purpose; returns the new version number. Earlier versions are kept."""
    check_text(new_text)
    check_reason(reason)
    async with ctx.db.write() as conn:
        is_manager = await conn.execute(
            sa.select(1).where(
                t.community_managers.c.community_id == community_id,
                t.community_managers.c.actor_id == actor_id,
            )
        )
        if (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.id == community_id)
            )
        ).first() is None:
            raise NotFound("no such community")
        if is_manager.first() is None:
            raise Forbidden("only community managers can change the purpose")
        version, _, event = await new_version(ctx, conn, community_id, new_text, reason, actor_id)
    await ctx.events.committed(event)
    return version


def check_reason(reason: str) -> str:
    """A change of purpose says why, briefly."""
    if len(reason) > MAX_REASON:
        raise ValidationError(
            Message("reason: at most %(num)s characters", num=MAX_REASON), field="reason"
        )
    if not reason.strip():
        raise ValidationError("reason: say why the purpose changes", field="reason")
    return reason


async def notify_members(
    conn: AsyncConnection,
    group_actor_id: int,
    type_: str,
    *,
    from_actor_id: int | None,
    community_id: int,
    post_id: int | None = None,
    extra: dict | None = None,
) -> None:
    """Tell every accepted member of a community (local ones get the notification)."""
    members = await conn.execute(
        sa.select(t.follows.c.follower_id).where(
            t.follows.c.target_id == group_actor_id, t.follows.c.state == "accepted"
        )
    )
    for (member_id,) in list(members):
        await notifications.notify(
            conn,
            member_id,
            type_,
            from_actor_id=from_actor_id,
            post_id=post_id,
            community_id=community_id,
            extra=extra,
        )


async def new_version(
    ctx: Context,
    conn: AsyncConnection,
    community_id: int,
    new_text: str,
    reason: str,
    actor_id: int | None,
) -> tuple[int, int, Event]:
    """Store the next version inside the caller's transaction; every member is asked to endorse it again.

    Returns (version number, row id, the ``purpose.changed`` event to pass to ``committed``).
    """
    community = (
        await conn.execute(
            sa.select(t.communities.c.id, t.communities.c.actor_id, t.actors.c.username)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.communities.c.id == community_id)
        )
    ).first()
    if community is None:
        raise NotFound("no such community")
    latest = (
        await conn.execute(
            sa.select(sa.func.max(t.purpose_versions.c.version)).where(
                t.purpose_versions.c.community_id == community_id
            )
        )
    ).scalar() or 0
    version = latest + 1
    version_id = await insert_version(
        conn,
        base=ctx.base,
        community_id=community_id,
        handle=community.username,
        version=version,
        source=new_text,
        reason=reason,
        author_id=actor_id,
    )
    # From the community itself, so everyone is asked — also whoever wrote or decided the new text.
    await notify_members(
        conn,
        community.actor_id,
        "koers.endorse_requested",
        from_actor_id=community.actor_id,
        community_id=community_id,
        extra={"version": version},
    )
    event = await ctx.events.emit(
        conn,
        kinds.PURPOSE_CHANGED,
        community_id=community_id,
        purpose_version_id=version_id,
        version=version,
        actor_id=actor_id,
    )
    return version, version_id, event


async def record_remote_version(
    conn: AsyncConnection,
    community_id: int,
    version: int,
    text_html: str,
    *,
    reason: str,
    uri: str | None,
    created_at: datetime | None,
) -> bool:
    """Keep a version of a community on another instance (sanitised HTML from its document); False when
    we already hold it. Asking members to endorse is the caller's choice (``notify_members``)."""
    pv = t.purpose_versions
    same = sa.and_(pv.c.community_id == community_id, pv.c.version == version)
    known = await conn.execute(sa.select(1).where(sa.or_(same, pv.c.uri == uri) if uri else same))
    if known.first():
        return False
    await conn.execute(
        pv.insert().values(
            community_id=community_id,
            version=version,
            text_source=text.html_to_text(text_html),
            text_html=text_html,
            reason=reason[:MAX_REASON],
            author_id=None,
            uri=uri,
            created_at=created_at or clock.now(),
        )
    )
    return True
