"""A member's e-mail standing: is the address confirmed, which mails they want, when sessions end.

A member without a ``mail_members`` row has a confirmed address (accounts made before e-mail, or on
the command line) and the default choices. Only a web sign-up writes ``unconfirmed``; such a
member may log in but not post until they follow the link (Mastodon does the same).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import Forbidden
from server.services import mail_links, mail_queue
from server.storage import schema as t
from server.storage.db import Database

# Notification e-mails and whether a member gets them before choosing (as Mastodon: the personal
# kinds on, the noisier ones off).
NOTIFY_DEFAULTS: dict[str, bool] = {
    "mention": True,
    "direct": True,
    "join_request": True,
    "approval": False,
    "decision_opened": False,
}
NOTIFY_LABELS: dict[str, str] = {
    "mention": "Someone mentions me",
    "direct": "Someone sends me a direct post",
    "join_request": "Someone asks to join a community I manage",
    "approval": "My request to join a community is approved",
    "decision_opened": "A decision opens in one of my communities",
}
NOT_CONFIRMED = (
    "confirm your e-mail address first: follow the link we sent you "
    "(Settings → E-mail sends a new one)"
)


async def standing(conn: AsyncConnection, user_id: int) -> sa.Row | None:
    """The member's ``mail_members`` row, or None (confirmed, default choices)."""
    m = t.mail_members
    return (await conn.execute(sa.select(m).where(m.c.user_id == user_id))).first()


async def update(conn: AsyncConnection, user_id: int, **values: Any) -> None:
    """Write some columns of the member's row, creating it first when it is missing."""
    m = t.mail_members
    # The write comes first: a SQLite transaction that reads before it writes may deadlock.
    done = await conn.execute(m.update().where(m.c.user_id == user_id).values(**values))
    if not done.rowcount:
        await conn.execute(m.insert().values(user_id=user_id, **values))


async def require_confirmed(conn: AsyncConnection, actor_id: int) -> None:
    """Raise Forbidden when the local member ``actor_id`` has not confirmed their address yet."""
    m = t.mail_members
    row = await conn.execute(
        sa.select(1)
        .select_from(m.join(t.users, t.users.c.id == m.c.user_id))
        .where(t.users.c.actor_id == actor_id, m.c.unconfirmed.is_(True))
    )
    if row.first() is not None:
        raise Forbidden(NOT_CONFIRMED)


def choices(row: sa.Row | None) -> dict[str, bool]:
    """Every notification kind with whether the member gets its e-mail."""
    chosen = dict(row.notify) if row is not None and isinstance(row.notify, dict) else {}
    return {kind: bool(chosen.get(kind, on)) for kind, on in NOTIFY_DEFAULTS.items()}


async def wants(conn: AsyncConnection, user_id: int, kind: str) -> bool:
    """Does the member get e-mail of this kind (``digest`` or a notification kind)?"""
    row = await standing(conn, user_id)
    if row is not None and row.unconfirmed:
        return False  # never mail an address nobody has confirmed but for the confirmation
    if kind == "digest":
        return row is None or bool(row.digest)
    return choices(row).get(kind, False)


async def set_choices(db: Database, user_id: int, notify: dict[str, bool], digest: bool) -> None:
    """Keep the member's choices (unknown kinds are ignored)."""
    kept = {kind: bool(notify.get(kind, False)) for kind in NOTIFY_DEFAULTS}
    async with db.write() as conn:
        await update(conn, user_id, notify=kept, digest=digest)


async def unsubscribe(db: Database, user_id: int, kind: str) -> None:
    """Stop one kind of e-mail (``digest`` or a notification kind), as a one-click link asks."""
    async with db.write() as conn:
        row = await standing(conn, user_id)
        if kind == "digest":
            await update(conn, user_id, digest=False)
        elif kind in NOTIFY_DEFAULTS:
            await update(conn, user_id, notify={**choices(row), kind: False})


async def queue_confirmation(conn: AsyncConnection, base: str, user_id: int, email: str) -> None:
    """In the sign-up's transaction: mark the address unconfirmed and mail the link."""
    await update(conn, user_id, unconfirmed=True)
    token = await mail_links.issue(conn, user_id, "confirm", email)
    await mail_queue.enqueue(
        conn, "confirm", user_id=user_id, params={"link": f"{base}/mail/confirm/{token}"}
    )


async def end_sessions(conn: AsyncConnection, user_id: int, at: datetime) -> None:
    """Void every session of the member started before ``at``."""
    await update(conn, user_id, sessions_after=at)


async def settings_view(db: Database, user_id: int) -> dict[str, Any]:
    """What the e-mail settings page shows: confirmed or not, the choices, may they invite."""
    manages = sa.select(1).where(t.community_managers.c.actor_id == t.users.c.actor_id).exists()
    async with db.read() as conn:
        row = await standing(conn, user_id)
        user = (
            await conn.execute(
                sa.select(t.users.c.email, t.users.c.is_admin, manages.label("manages")).where(
                    t.users.c.id == user_id
                )
            )
        ).one()
    return {
        "email": user.email,
        "unconfirmed": bool(row is not None and row.unconfirmed),
        "notify": choices(row),
        "digest": row is None or bool(row.digest),
        "may_invite": bool(user.is_admin or user.manages),
    }
