"""OAuth 2 for the client API: registered apps, authorization codes (with PKCE), tokens, revocation.

Codes and tokens are random strings handed out once; only their SHA-256 is stored. A code is good
for ten minutes and one exchange; it is bound to its app, redirect URI and PKCE challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import BadRequest, ValidationError
from server.i18n.messages import Message
from server.services import hot_rows
from server.storage import schema as t
from server.storage.db import Database
from server.storage.rows import inserted_id

log = logging.getLogger(__name__)

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME = timedelta(days=90)
MAX_REDIRECT_URIS = 10


class OAuthError(BadRequest):
    """An OAuth protocol error (RFC 6749 §5.2): ``code`` is ``invalid_grant``, ``invalid_client`` …"""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    refresh_token: str | None
    scopes: tuple[str, ...]
    created_at: int
    expires_in: int | None


def hash_secret(value: str) -> str:
    """The stored form of a token or code."""
    return hashlib.sha256(value.encode()).hexdigest()


def check_redirect_uris(raw: str) -> list[str]:
    """Split and validate ``redirect_uris`` (newline or space separated): absolute URIs or the OOB URN."""
    uris = [u.strip() for u in raw.replace("\r", "\n").replace(" ", "\n").split("\n") if u.strip()]
    if not uris:
        raise ValidationError(
            "redirect_uris: at least one redirect URI is required", field="redirect_uris"
        )
    if len(uris) > MAX_REDIRECT_URIS:
        raise ValidationError(
            Message("redirect_uris: at most %(num)s", num=MAX_REDIRECT_URIS), field="redirect_uris"
        )
    for uri in uris:
        if uri == OOB:
            continue
        parts = urlsplit(uri)
        if (
            not parts.scheme
            or parts.fragment
            or len(uri) > 2000
            or parts.scheme in ("javascript", "data")
        ):
            raise ValidationError(
                Message("redirect_uris: %(uri)s is not an absolute URI", uri=repr(uri)),
                field="redirect_uris",
            )
        if parts.scheme in ("http", "https") and not parts.netloc:
            raise ValidationError(
                Message("redirect_uris: %(uri)s has no host", uri=repr(uri)), field="redirect_uris"
            )
    return uris


async def register_app(
    ctx: Context,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: tuple[str, ...],
    website: str | None,
) -> sa.Row:
    """Register a client application; returns its row (with the client secret)."""
    if not name.strip() or len(name) > 255:
        raise ValidationError("client_name: 1 to 255 characters", field="client_name")
    if website and (len(website) > 2000 or urlsplit(website).scheme not in ("http", "https")):
        raise ValidationError("website: must be an http(s) URL", field="website")
    async with ctx.db.write() as conn:
        res = await conn.execute(
            t.oauth_apps.insert().values(
                name=name.strip(),
                website=website or None,
                client_id=secrets.token_urlsafe(32),
                client_secret=secrets.token_urlsafe(48),
                redirect_uris="\n".join(redirect_uris),
                scopes=" ".join(scopes),
                created_at=clock.now(),
            )
        )
        row = (
            await conn.execute(sa.select(t.oauth_apps).where(t.oauth_apps.c.id == inserted_id(res)))
        ).one()
    log.info("oauth app %r registered (id %s)", row.name, row.id)
    return row


async def app_by_client_id(conn: AsyncConnection, client_id: str | None) -> sa.Row | None:
    if not client_id:
        return None
    return (
        await conn.execute(sa.select(t.oauth_apps).where(t.oauth_apps.c.client_id == client_id))
    ).first()


async def client(ctx: Context, client_id: str | None, client_secret: str | None) -> sa.Row:
    """The app whose credentials these are, or ``invalid_client``."""
    async with ctx.db.read() as conn:
        row = await app_by_client_id(conn, client_id)
    if (
        row is None
        or not client_secret
        or not hmac.compare_digest(row.client_secret, client_secret)
    ):
        raise OAuthError(
            "invalid_client",
            "Client authentication failed due to unknown client, no client "
            "authentication included, or unsupported authentication method.",
            status=401,
        )
    return row


async def create_code(
    ctx: Context,
    *,
    app_id: int,
    user_id: int,
    redirect_uri: str,
    scopes: tuple[str, ...],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """A fresh authorization code for an approved request."""
    code = secrets.token_urlsafe(32)
    async with ctx.db.write() as conn:
        await conn.execute(
            t.oauth_codes.insert().values(
                code_hash=hash_secret(code),
                app_id=app_id,
                user_id=user_id,
                redirect_uri=redirect_uri,
                scopes=" ".join(scopes),
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method if code_challenge else None,
                expires_at=clock.now() + CODE_LIFETIME,
                used=False,
            )
        )
    return code


def pkce_ok(verifier: str, challenge: str, method: str | None) -> bool:
    """RFC 7636: ``S256`` compares BASE64URL(SHA256(verifier)); ``plain`` compares as is."""
    if (method or "plain") == "S256":
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        return hmac.compare_digest(digest, challenge)
    return hmac.compare_digest(verifier, challenge)


async def issue(
    conn: AsyncConnection,
    *,
    app_id: int,
    user_id: int | None,
    scopes: tuple[str, ...],
    refresh: bool = True,
) -> IssuedToken:
    """Create an access token (and, for users, a refresh token)."""
    token = secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(32) if refresh and user_id is not None else None
    now = clock.now()
    await conn.execute(
        t.oauth_tokens.insert().values(
            token_hash=hash_secret(token),
            refresh_hash=hash_secret(refresh_token) if refresh_token else None,
            app_id=app_id,
            user_id=user_id,
            scopes=" ".join(scopes),
            created_at=now,
            expires_at=now + TOKEN_LIFETIME if refresh_token else None,
        )
    )
    return IssuedToken(
        token,
        refresh_token,
        scopes,
        int(now.timestamp()),
        int(TOKEN_LIFETIME.total_seconds()) if refresh_token else None,
    )


async def exchange_code(
    ctx: Context, app: sa.Row, *, code: str, redirect_uri: str | None, code_verifier: str | None
) -> IssuedToken:
    """The ``authorization_code`` grant: one use, ten minutes, same redirect URI, PKCE checked."""
    invalid = OAuthError(
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not "
        "match the redirection URI used in the authorization request, or was issued to another "
        "client.",
    )
    async with ctx.db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.oauth_codes).where(t.oauth_codes.c.code_hash == hash_secret(code))
            )
        ).first()
        if row is None or row.app_id != app.id or row.used:
            raise invalid
        # Spend the code whatever happens next (committed even when the checks below fail).
        await conn.execute(
            t.oauth_codes.update().where(t.oauth_codes.c.id == row.id).values(used=True)
        )
        problem: OAuthError | None = None
        if clock.aware(row.expires_at) <= clock.now():
            problem = invalid
        elif redirect_uri is not None and redirect_uri != row.redirect_uri:
            problem = invalid
        elif row.code_challenge and (
            not code_verifier
            or not pkce_ok(code_verifier, row.code_challenge, row.code_challenge_method)
        ):
            problem = OAuthError(
                "invalid_grant", "The PKCE code verifier does not match the code challenge."
            )
        issued = (
            None
            if problem
            else await issue(
                conn, app_id=app.id, user_id=row.user_id, scopes=tuple(row.scopes.split())
            )
        )
    if issued is None:
        assert problem is not None
        raise problem
    return issued


async def refresh(
    ctx: Context, app: sa.Row, refresh_token: str, scopes: tuple[str, ...] | None
) -> IssuedToken:
    """The ``refresh_token`` grant: the old token pair is revoked, a new one issued."""
    async with ctx.db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.oauth_tokens).where(
                    t.oauth_tokens.c.refresh_hash == hash_secret(refresh_token)
                )
            )
        ).first()
        if row is None or row.app_id != app.id or row.revoked_at is not None:
            raise OAuthError("invalid_grant", "The refresh token is invalid.")
        granted = tuple(row.scopes.split())
        if scopes and not set(scopes) <= set(granted):
            raise OAuthError(
                "invalid_scope", "The requested scope exceeds the scope granted before."
            )
        await conn.execute(
            t.oauth_tokens.update()
            .where(t.oauth_tokens.c.id == row.id)
            .values(revoked_at=clock.now())
        )
        return await issue(conn, app_id=app.id, user_id=row.user_id, scopes=scopes or granted)


async def issue_for(
    ctx: Context, app: sa.Row, user_id: int | None, scopes: tuple[str, ...]
) -> IssuedToken:
    """A token for the ``password`` and ``client_credentials`` grants."""
    async with ctx.db.write() as conn:
        return await issue(conn, app_id=app.id, user_id=user_id, scopes=scopes)


async def revoke(ctx: Context, app: sa.Row, token: str) -> None:
    """Revoke an access or refresh token of this app (unknown tokens are ignored, RFC 7009)."""
    h = hash_secret(token)
    async with ctx.db.write() as conn:
        await conn.execute(
            t.oauth_tokens.update()
            .where(
                sa.or_(t.oauth_tokens.c.token_hash == h, t.oauth_tokens.c.refresh_hash == h),
                t.oauth_tokens.c.app_id == app.id,
                t.oauth_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=clock.now())
        )


def require(value: str | None, name: str) -> str:
    if not value:
        raise OAuthError("invalid_request", f"Missing required parameter: {name}.")
    return value


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """Whom a valid bearer token speaks for: an app alone (``user_id`` None) or a member."""

    token_id: int
    app_id: int | None
    user_id: int | None
    actor_id: int | None
    scopes: frozenset[str]
    is_admin: bool


_TOKEN = (
    sa.select(
        t.oauth_tokens.c.id,
        t.oauth_tokens.c.app_id,
        t.oauth_tokens.c.user_id,
        t.oauth_tokens.c.scopes,
        t.oauth_tokens.c.expires_at,
        t.oauth_tokens.c.revoked_at,
        t.users.c.actor_id,
        t.users.c.is_admin,
        t.users.c.state,
        t.actors.c.suspended,
    )
    .select_from(
        t.oauth_tokens.outerjoin(t.users, t.users.c.id == t.oauth_tokens.c.user_id).outerjoin(
            t.actors, t.actors.c.id == t.users.c.actor_id
        )
    )
    .where(t.oauth_tokens.c.token_hash == sa.bindparam("token_hash"))
)


def token_holder_in(conn: sa.Connection, token: str) -> TokenHolder | None:
    """The holder of ``token``; None when it is unknown, revoked or expired, or its member is not
    active or suspended. Only the token's hash is looked up (a unit-of-work function: the API
    asks it on every request, so the statement is built once)."""
    return _holder(conn.execute(_TOKEN, {"token_hash": hash_secret(token)}).first())


def _holder(row: sa.Row | None) -> TokenHolder | None:
    if row is None or row.revoked_at is not None:
        return None
    expires = clock.aware(row.expires_at)
    if expires is not None and expires <= clock.now():
        return None
    scopes = frozenset(row.scopes.split())
    if row.user_id is None:
        return TokenHolder(row.id, row.app_id, None, None, scopes, False)
    if row.state != "active" or row.suspended:
        return None
    return TokenHolder(row.id, row.app_id, row.user_id, row.actor_id, scopes, bool(row.is_admin))


def _token_row(conn: sa.Connection, token_hash: str) -> sa.Row | None:
    return conn.execute(_TOKEN, {"token_hash": token_hash}).first()


async def cached_token_holder(db: Database, token: str) -> TokenHolder | None:
    """``token_holder_in`` through the tokens' cache (``hot_rows.tokens``): the row is cached, its
    revocation, expiry and member's state are checked on every call."""
    token_hash = hash_secret(token)
    cache = hot_rows.tokens(db.engine.sync_engine)
    row = await hot_rows.through(cache, token_hash, lambda: db.read(_token_row, token_hash))
    return _holder(row)


async def token_holder(conn: AsyncConnection, token: str) -> TokenHolder | None:
    """``token_holder_in`` over an async connection."""
    return await conn.run_sync(token_holder_in, token)


async def get_app(conn: AsyncConnection, app_id: int | None) -> sa.Row:
    """The registered application ``app_id`` (it exists: a token names it)."""
    return (await conn.execute(sa.select(t.oauth_apps).where(t.oauth_apps.c.id == app_id))).one()
