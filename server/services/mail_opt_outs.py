"""Opting an address out of a kind of mail that is not sent to a member (invitations).

A member stops a kind of mail through their choices (``mail_members``); an invitation goes to an
address that belongs to no member yet, so its one-click unsubscribe link (signed, carrying the
address) records the address in ``mail_opt_outs``. Nobody invites that address again, and an
invitation still waiting in the queue is not sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.storage import schema as t
from server.storage.db import Database

# Kinds of mail an address (not a member) can opt out of.
KINDS = frozenset({"invite"})


async def opted_out(conn: AsyncConnection, address: str, kind: str) -> bool:
    """Whether ``address`` asked for no more mail of ``kind``."""
    o = t.mail_opt_outs
    found = await conn.execute(
        sa.select(1).where(o.c.address == address.strip().lower(), o.c.kind == kind)
    )
    return found.first() is not None


async def opt_out(db: Database, address: str, kind: str) -> None:
    """Record that ``address`` wants no more mail of ``kind`` (again is harmless)."""
    if kind not in KINDS:
        return
    address = address.strip().lower()
    async with db.write() as conn:
        if not await opted_out(conn, address, kind):
            await conn.execute(
                t.mail_opt_outs.insert().values(address=address, kind=kind, created_at=clock.now())
            )
