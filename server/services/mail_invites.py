"""Invitations by e-mail: an administrator or a community manager invites someone by address.

The invite is an ordinary single-use invite link (``invites``, valid a week), written in the same
transaction as the message that carries it; the command line invites on the instance's behalf.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import Conflict, Forbidden
from server.services import accounts, mail_opt_outs, mail_queue
from server.storage import schema as t

log = logging.getLogger(__name__)

VALID_FOR = timedelta(days=7)


async def may_invite(conn: AsyncConnection, user_id: int) -> bool:
    """Administrators and the managers of a community may invite by e-mail."""
    row = (
        await conn.execute(
            sa.select(t.users.c.is_admin, t.users.c.actor_id).where(t.users.c.id == user_id)
        )
    ).first()
    if row is None:
        return False
    if row.is_admin:
        return True
    managed = await conn.execute(
        sa.select(1).where(t.community_managers.c.actor_id == row.actor_id).limit(1)
    )
    return managed.first() is not None


async def invite(ctx: Context, inviter_user_id: int | None, email: str) -> str:
    """Mail a single-use invite link to ``email``; the link. ``None`` invites as the instance."""
    address = accounts.check_email(email)
    code = secrets.token_urlsafe(12)
    now = clock.now()
    async with ctx.db.write() as conn:
        inviter = ctx.settings.instance_name
        if inviter_user_id is not None:
            if not await may_invite(conn, inviter_user_id):
                raise Forbidden("only administrators and community managers can invite by e-mail")
            found = (
                await conn.execute(
                    sa.select(t.actors.c.display_name, t.actors.c.username)
                    .join(t.users, t.users.c.actor_id == t.actors.c.id)
                    .where(t.users.c.id == inviter_user_id)
                )
            ).one()
            inviter = found.display_name or f"@{found.username}"
        if (await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == address))).first():
            raise Conflict("someone with this address is a member already", field="email")
        if await mail_opt_outs.opted_out(conn, address, "invite"):
            raise Conflict("this address asked for no more invitations", field="email")
        await conn.execute(
            t.invites.insert().values(
                code=code,
                created_by=inviter_user_id,
                max_uses=1,
                expires_at=now + VALID_FOR,
                created_at=now,
            )
        )
        link = f"{ctx.base}/signup?invite={code}"
        await mail_queue.enqueue(
            conn, "invite", to=address, params={"link": link, "inviter": inviter}
        )
    log.info("invitation queued (by user %s)", inviter_user_id)
    return link
