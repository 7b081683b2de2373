"""What e-mail does for an account: confirm the address, reset a forgotten password, change address.

Each flow checks everything first and writes in one transaction: the link row and the queued
message together, so a link is never issued without its mail, nor a mail queued for a link that
was rolled back.

A password reset answers the same whether the address belongs to a member or not. Requests are
throttled without telling: at most ``RESET_PER_ACCOUNT`` mails an hour to one member and
``RESET_PER_CLIENT`` an hour asked by one client address; more are dropped silently (the owner
still has the links already sent, so nobody can lock them out). Following a link sets the new
password, voids every session and access token of the member, and uses up their other links.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import Conflict, FieldErrors, Forbidden, ValidationError
from server.services import accounts, login_throttle, mail_links, mail_members, mail_queue
from server.storage import schema as t

log = logging.getLogger(__name__)

RESET_PER_ACCOUNT = 3
RESET_PER_CLIENT = 10
CONFIRM_PER_ACCOUNT = 5
WINDOW = timedelta(hours=1)
RESET_ATTEMPTS = "password-reset-link"  # the throttle's key for following reset links


def link(ctx: Context, path: str, token: str) -> str:
    return f"{ctx.base}{path}/{token}"


async def resend_confirmation(ctx: Context, user_id: int) -> None:
    """Mail a new confirmation link (the settings page's button), a few an hour at most."""
    async with ctx.db.write() as conn:
        row = await mail_members.standing(conn, user_id)
        if row is None or not row.unconfirmed:
            raise ValidationError("your address is confirmed already", field="email")
        if await mail_links.recent(conn, "confirm", WINDOW, user_id=user_id) >= CONFIRM_PER_ACCOUNT:
            raise ValidationError("we sent several links this hour; look for them", field="email")
        email = (
            await conn.execute(sa.select(t.users.c.email).where(t.users.c.id == user_id))
        ).scalar_one()
        await mail_members.queue_confirmation(conn, ctx.base, user_id, email)


async def confirm(ctx: Context, token: str) -> int:
    """Follow a confirmation link: the member may post from now on; their user id."""
    async with ctx.db.write() as conn:
        row = await mail_links.redeem(conn, "confirm", token)
        current = (
            await conn.execute(sa.select(t.users.c.email).where(t.users.c.id == row.user_id))
        ).scalar()
        if current != row.email:
            raise ValidationError("this link is for an address you no longer use", field="token")
        await mail_members.update(conn, row.user_id, unconfirmed=False)
    log.info("user %s confirmed their address", row.user_id)
    return int(row.user_id)


async def request_reset(ctx: Context, email: str, client: str) -> None:
    """Mail a reset link when ``email`` is a member's address; silent either way."""
    address = accounts.check_email(email)
    async with ctx.db.write() as conn:
        user = (
            await conn.execute(
                sa.select(t.users.c.id, t.users.c.state).where(t.users.c.email == address)
            )
        ).first()
        if user is None or user.state == "disabled":
            log.info("password reset asked for an unknown address")
            return
        per_account = await mail_links.recent(conn, "reset", WINDOW, user_id=user.id)
        per_client = await mail_links.recent(conn, "reset", WINDOW, requested_from=client)
        if per_account >= RESET_PER_ACCOUNT or per_client >= RESET_PER_CLIENT:
            log.warning("password reset for user %s throttled (from %s)", user.id, client)
            return
        token = await mail_links.issue(conn, user.id, "reset", address, requested_from=client)
        await mail_queue.enqueue(
            conn, "reset", user_id=user.id, params={"link": link(ctx, "/password/reset", token)}
        )


async def user_id_of(ctx: Context, username: str) -> int | None:
    """The user id of a local member by username, or None."""
    async with ctx.db.read() as conn:
        found = await conn.execute(
            sa.select(t.users.c.id)
            .join(t.actors, t.actors.c.id == t.users.c.actor_id)
            .where(t.actors.c.username == username.strip().lower(), t.actors.c.domain.is_(None))
        )
        user_id = found.scalar()
    return int(user_id) if user_id is not None else None


async def queue_reset(ctx: Context, user_id: int) -> str:
    """Mail a reset link to a member, as an administrator asks; the address it goes to."""
    async with ctx.db.write() as conn:
        email = (
            await conn.execute(sa.select(t.users.c.email).where(t.users.c.id == user_id))
        ).scalar_one()
        token = await mail_links.issue(conn, user_id, "reset", email, requested_from="admin")
        await mail_queue.enqueue(
            conn, "reset", user_id=user_id, params={"link": link(ctx, "/password/reset", token)}
        )
    return str(email)


async def check_reset_link(ctx: Context, token: str, client: str = "") -> None:
    """Raise ValidationError unless the reset link still works (the page shows the form then).

    A wrong link counts as a failed attempt of the client (``login_throttle``), so guessing links
    is slowed like guessing passwords.
    """
    await login_throttle.before_attempt(ctx.db, RESET_ATTEMPTS, client)
    try:
        async with ctx.db.read() as conn:
            await mail_links.find(conn, "reset", token)
    except ValidationError:
        await login_throttle.failed(ctx.db, RESET_ATTEMPTS, client)
        raise


async def reset_password(ctx: Context, token: str, password: str, client: str = "") -> int:
    """Set a new password with a reset link; every session and token of the member ends."""
    await check_reset_link(ctx, token, client)
    accounts.check_password(password)
    password_hash = accounts.hash_password(password)
    now = clock.now()
    async with ctx.db.write() as conn:
        row = await mail_links.redeem(conn, "reset", token)
        await conn.execute(
            t.users.update().where(t.users.c.id == row.user_id).values(password_hash=password_hash)
        )
        await revoke_access(conn, row.user_id, now)
        # Whoever reads the mail owns the address: a pending confirmation is settled too.
        standing = await mail_members.standing(conn, row.user_id)
        if standing is not None and standing.unconfirmed:
            await mail_members.update(conn, row.user_id, unconfirmed=False)
    log.info("user %s reset their password; sessions and tokens revoked", row.user_id)
    return int(row.user_id)


async def revoke_access(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """End every session and access token of the member, and forget their failed logins."""
    await mail_members.end_sessions(conn, user_id, now)
    await conn.execute(
        t.oauth_tokens.update()
        .where(t.oauth_tokens.c.user_id == user_id, t.oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    name = (
        await conn.execute(
            sa.select(t.actors.c.username)
            .join(t.users, t.users.c.actor_id == t.actors.c.id)
            .where(t.users.c.id == user_id)
        )
    ).scalar()
    await conn.execute(t.login_failures.delete().where(t.login_failures.c.login == name))


async def start_email_change(ctx: Context, user_id: int, new_email: str, password: str) -> str:
    """Mail a confirmation link to the new address; the address stays as it is until followed."""
    found = FieldErrors()  # a bad address and a wrong password are told together
    address = ""
    with found.check("email"):
        address = accounts.check_email(new_email)
    async with ctx.db.write() as conn:
        user = (
            await conn.execute(
                sa.select(t.users.c.email, t.users.c.password_hash).where(t.users.c.id == user_id)
            )
        ).one()
        if not accounts.password_matches(user.password_hash, password):
            found.add("password", "wrong password")
        if found:
            first, message = next(iter(found.errors.items()))
            error = Forbidden if "password" in found.errors else ValidationError
            raise error(message, field=first, errors=found.errors)
        if address == user.email:
            raise ValidationError("email: this is your address already", field="email")
        if (await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == address))).first():
            raise Conflict("an account with this email exists already", field="email")
        token = await mail_links.issue(conn, user_id, "email_change", address)
        await mail_queue.enqueue(
            conn,
            "email_change",
            user_id=user_id,
            to=address,
            params={"link": link(ctx, "/mail/change", token), "address": address},
        )
    return address


async def finish_email_change(ctx: Context, token: str) -> str:
    """Follow the link sent to a new address: it becomes the member's address (confirmed)."""
    async with ctx.db.write() as conn:
        row = await mail_links.redeem(conn, "email_change", token)
        taken = await conn.execute(
            sa.select(t.users.c.id).where(t.users.c.email == row.email, t.users.c.id != row.user_id)
        )
        if taken.first():
            raise Conflict("an account with this email exists already", field="token")
        old = (
            await conn.execute(sa.select(t.users.c.email).where(t.users.c.id == row.user_id))
        ).scalar_one()
        await conn.execute(
            t.users.update().where(t.users.c.id == row.user_id).values(email=row.email)
        )
        await mail_members.update(conn, row.user_id, unconfirmed=False)
        # the old address hears of it, so a stolen session cannot move the account away silently
        await mail_queue.enqueue(
            conn, "email_changed", user_id=row.user_id, to=old, params={"address": row.email}
        )
    log.info("user %s changed their address", row.user_id)
    return str(row.email)
