"""Single sign-on's members: pending sign-ins, identities linked by issuer + ``sub``, new members.

A sign-in begun here is a row of ``oidc_logins`` (the hashes of its ``state`` and of the
browser's binding, the nonce and the PKCE verifier, where to land afterwards); the callback takes
it once. The identity it brings back finds its member by issuer + subject only. An unknown
identity creates a member, under the registration mode, unless a member already has its e-mail:
then that member links it once by logging in with their password (``link_identity``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server.config import Settings
from server.errors import KoersError
from server.services import accounts
from server.services.oidc import Claims, OidcClient, SignInFailed
from server.storage import schema as t
from server.storage.db import Database
from server.storage.rows import inserted_id
from server.visibility import Audience

log = logging.getLogger(__name__)

LOGIN_TTL = timedelta(minutes=10)
# Never a valid argon2 hash: a member made by single sign-on has no password until they set one.
NO_PASSWORD = "!oidc"


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A sign-in the provider sent back, taken from its row."""

    nonce: str
    code_verifier: str
    next_url: str
    link_user_id: int | None
    invite_code: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a completed sign-in means: ``signed_in``, ``pending``, ``linked`` or ``needs_link``."""

    kind: str
    user_id: int | None = None
    username: str = ""
    email: str = ""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def begin(
    db: Database,
    client: OidcClient,
    *,
    browser: str,
    next_url: str,
    link_user_id: int | None = None,
    invite_code: str | None = None,
) -> str:
    """Record a new sign-in for this browser; returns the provider URL to send it to."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    url = await client.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
    now = clock.now()
    async with db.write() as conn:
        await conn.execute(
            t.oidc_logins.delete().where(t.oidc_logins.c.created_at < now - LOGIN_TTL)
        )
        await conn.execute(
            t.oidc_logins.insert().values(
                state_hash=_hash(state),
                browser_hash=_hash(browser),
                nonce=nonce,
                code_verifier=verifier,
                next_url=next_url[:2048],
                link_user_id=link_user_id,
                invite_code=(invite_code or None) and invite_code[:64],
                created_at=now,
            )
        )
    return url


async def take(db: Database, *, state: str, browser: str) -> PendingLogin:
    """The sign-in ``state`` names, removed so it is used once; refused unless this browser began it."""
    if not state or not browser:
        raise SignInFailed(
            "This sign-in link is not one we started (no state). Please start again.",
            reason="callback without state or without the browser's binding",
        )
    async with db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.oidc_logins).where(t.oidc_logins.c.state_hash == _hash(state))
            )
        ).first()
        if row is not None and row.browser_hash == _hash(browser):
            await conn.execute(t.oidc_logins.delete().where(t.oidc_logins.c.id == row.id))
    if row is None or row.browser_hash != _hash(browser):
        raise SignInFailed(
            "This sign-in is unknown, was already used, or was started in another browser. "
            "Please start again.",
            reason="unknown, used or foreign state",
        )
    if clock.aware(row.created_at) < clock.now() - LOGIN_TTL:
        raise SignInFailed(
            "This sign-in took too long. Please start again.", reason="state expired"
        )
    return PendingLogin(
        row.nonce, row.code_verifier, row.next_url, row.link_user_id, row.invite_code
    )


def _refused(message: str, reason: str) -> SignInFailed:
    return SignInFailed(message, reason=reason, status=403)


async def complete(
    db: Database, settings: Settings, claims: Claims, pending: PendingLogin
) -> Outcome:
    """Find, link or create the member of a verified identity. Signs nobody in by itself."""
    async with db.read() as conn:
        identity = (
            await conn.execute(
                sa.select(t.oidc_identities).where(
                    t.oidc_identities.c.issuer == claims.issuer,
                    t.oidc_identities.c.subject == claims.subject,
                )
            )
        ).first()
    if pending.link_user_id is not None:
        if identity is not None and identity.user_id != pending.link_user_id:
            raise _refused(
                "This provider account is already linked to another member here.",
                f"link refused: {claims.subject} belongs to user {identity.user_id}",
            )
        await link_identity(db, pending.link_user_id, claims)
        return Outcome("linked", pending.link_user_id)
    if identity is not None:
        return await _sign_in_linked(db, identity.user_id, claims)
    email = _email_of(claims)
    async with db.read() as conn:
        holder = (
            await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == email))
        ).first()
    if holder is not None:
        return Outcome("needs_link", email=email)
    return await _create_member(db, settings, claims, email, pending.invite_code)


def _email_of(claims: Claims) -> str:
    try:
        return accounts.check_email(claims.email)
    except KoersError:
        raise _refused(
            "The sign-in provider did not share a valid e-mail address, which a new account "
            "needs. Ask your administrator to release the e-mail to this service.",
            f"no usable email claim for {claims.subject} ({claims.email[:80]!r})",
        ) from None


async def _sign_in_linked(db: Database, user_id: int, claims: Claims) -> Outcome:
    async with db.write() as conn:
        member = await accounts.get_user(conn, user_id)
        if member is None:
            raise _refused("This account no longer exists.", f"user {user_id} is gone")
        if member.suspended or member.user_state == "disabled":
            raise _refused(
                "This account is suspended on this instance.",
                f"suspended member @{member.username} tried single sign-on",
            )
        if member.user_state == "pending":
            return Outcome("pending", user_id, member.username)
        await conn.execute(
            t.oidc_identities.update()
            .where(
                t.oidc_identities.c.issuer == claims.issuer,
                t.oidc_identities.c.subject == claims.subject,
            )
            .values(last_login_at=clock.now(), email=claims.email[:320])
        )
        await conn.execute(
            t.users.update().where(t.users.c.id == user_id).values(last_login_at=clock.now())
        )
    return Outcome("signed_in", user_id, member.username)


async def link_identity(db: Database, user_id: int, claims: Claims) -> None:
    """Link a provider identity to a member (who proved it is theirs); linking twice is a no-op."""
    now = clock.now()
    async with db.write() as conn:
        existing = (
            await conn.execute(
                sa.select(t.oidc_identities.c.user_id).where(
                    t.oidc_identities.c.issuer == claims.issuer,
                    t.oidc_identities.c.subject == claims.subject,
                )
            )
        ).first()
        if existing is not None:
            if existing.user_id != user_id:
                raise _refused(
                    "This provider account is already linked to another member here.",
                    f"link refused: {claims.subject} belongs to user {existing.user_id}",
                )
            return
        await _insert_identity(conn, user_id, claims, now)
    log.info("user %s linked identity %s of %s", user_id, claims.subject, claims.issuer)


async def _insert_identity(
    conn: AsyncConnection, user_id: int, claims: Claims, now: datetime
) -> None:
    await conn.execute(
        t.oidc_identities.insert().values(
            user_id=user_id,
            issuer=claims.issuer,
            subject=claims.subject,
            email=claims.email[:320],
            created_at=now,
            last_login_at=now,
        )
    )


async def identities_of(db: Database, user_id: int) -> list[sa.Row]:
    """The provider identities linked to a member."""
    async with db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.oidc_identities)
                .where(t.oidc_identities.c.user_id == user_id)
                .order_by(t.oidc_identities.c.id)
            )
        )


def username_base(claims: Claims) -> str:
    """A valid username from ``preferred_username`` or the e-mail's local part."""
    for source in (claims.preferred_username, claims.email.split("@", 1)[0]):
        name = re.sub(r"[^a-z0-9_]+", "_", source.strip().lower()).strip("_")[:24]
        if name and name not in accounts.RESERVED:
            return name
    return "member"


async def _free_username(conn: AsyncConnection, base: str) -> str:
    if not await accounts.handle_taken(conn, base):
        return base
    for n in range(2, 1000):
        name = f"{base}{n}"
        if not await accounts.handle_taken(conn, name):
            return name
    return f"{base}_{secrets.token_hex(3)}"


async def _create_member(
    db: Database, settings: Settings, claims: Claims, email: str, invite_code: str | None
) -> Outcome:
    mode = settings.registrations
    if mode == "closed":
        raise _refused(
            "Sign-up is closed on this instance, and this provider account has no member here.",
            f"new identity {claims.subject} refused: registrations closed",
        )
    if mode == "invite" and not invite_code:
        raise _refused(
            "Joining this instance needs an invite link. Open your invite link and choose "
            "the sign-in button there.",
            f"new identity {claims.subject} refused: no invite",
        )
    state = "pending" if mode == "approval" and not invite_code else "active"
    now = clock.now()
    try:
        async with db.write() as conn:
            if invite_code:
                await accounts.use_invite(conn, invite_code)
            username = await _free_username(conn, username_base(claims))
            actor_id = await accounts.insert_local_actor(
                conn,
                settings,
                kind="person",
                username=username,
                uri=urls.person(settings.url, username),
                page_url=urls.person_page(settings.url, username),
                display_name=claims.name.strip()[:100],
            )
            user_id = inserted_id(
                await conn.execute(
                    t.users.insert().values(
                        actor_id=actor_id,
                        email=email,
                        password_hash=NO_PASSWORD,
                        state=state,
                        signup_reason=f"single sign-on ({claims.issuer})",
                        default_audience=Audience.PUBLIC.value,
                        created_at=now,
                        last_login_at=now if state == "active" else None,
                    )
                )
            )
            await _insert_identity(conn, user_id, claims, now)
    except sa.exc.IntegrityError:
        raise SignInFailed(
            "Someone signed up with the same name or address a moment ago. Please try again.",
            reason=f"race creating the member of {claims.subject}",
            status=409,
        ) from None
    except KoersError as exc:
        raise _refused(exc.message, f"invite refused for {claims.subject}: {exc.message}") from None
    log.info("account %s created by single sign-on (state %s)", username, state)
    return Outcome("pending" if state == "pending" else "signed_in", user_id, username)
