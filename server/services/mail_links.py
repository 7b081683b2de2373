"""Links sent by e-mail (confirm an address, reset a password, confirm a new address).

A link carries a random token; only its SHA-256 is stored, with what it is for, the address it was
sent to, and until when it works. Following it once uses it up.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.errors import ValidationError
from server.storage import schema as t

PURPOSES = ("confirm", "reset", "email_change")
LIFETIME = {
    "confirm": timedelta(days=3),
    "reset": timedelta(hours=1),
    "email_change": timedelta(days=1),
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    conn: AsyncConnection, user_id: int, purpose: str, email: str, *, requested_from: str = ""
) -> str:
    """A new link token for the member; the raw token, to put in the mail."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    await conn.execute(
        t.mail_tokens.insert().values(
            user_id=user_id,
            purpose=purpose,
            token_hash=_digest(token),
            email=email,
            requested_from=requested_from[:64],
            expires_at=now + LIFETIME[purpose],
            created_at=now,
        )
    )
    return token


async def find(conn: AsyncConnection, purpose: str, token: str) -> sa.Row:
    """The unused, unexpired link row of ``token``; ValidationError (with why) otherwise."""
    k = t.mail_tokens
    row = (
        await conn.execute(
            sa.select(k).where(k.c.token_hash == _digest(token[:200]), k.c.purpose == purpose)
        )
    ).first()
    if row is None:
        raise ValidationError("this link is not valid; ask for a new one", field="token")
    if row.used_at is not None:
        raise ValidationError("this link has been used already; ask for a new one", field="token")
    if clock.aware(row.expires_at) < clock.now():
        raise ValidationError("this link has expired; ask for a new one", field="token")
    return row


async def redeem(conn: AsyncConnection, purpose: str, token: str) -> sa.Row:
    """Use up the link (and every other open link of the member for the same purpose)."""
    row = await find(conn, purpose, token)
    k = t.mail_tokens
    now = clock.now()
    res = await conn.execute(
        k.update().where(k.c.id == row.id, k.c.used_at.is_(None)).values(used_at=now)
    )
    if not res.rowcount:  # another request used it between our read and this write
        raise ValidationError("this link has been used already; ask for a new one", field="token")
    await conn.execute(
        k.update()
        .where(k.c.user_id == row.user_id, k.c.purpose == purpose, k.c.used_at.is_(None))
        .values(used_at=now)
    )
    return row


async def recent(
    conn: AsyncConnection,
    purpose: str,
    within: timedelta,
    *,
    user_id: int | None = None,
    requested_from: str | None = None,
) -> int:
    """How many links of ``purpose`` were issued within ``within`` for the member or the client."""
    k = t.mail_tokens
    q = (
        sa.select(sa.func.count())
        .select_from(k)
        .where(k.c.purpose == purpose, k.c.created_at > clock.now() - within)
    )
    if user_id is not None:
        q = q.where(k.c.user_id == user_id)
    if requested_from is not None:
        q = q.where(k.c.requested_from == requested_from[:64])
    return int((await conn.execute(q)).scalar_one())
