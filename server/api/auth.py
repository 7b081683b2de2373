"""Bearer tokens and scopes for the client API: who is calling, and may they do this?

Tokens are random strings given to the client once; only their SHA-256 is stored (``oauth_tokens``),
so a database leak does not leak usable tokens. Scopes follow Mastodon: ``read`` covers every
``read:*`` sub-scope, ``write`` every ``write:*``, ``follow`` covers ``read:follows``,
``write:follows``, ``read:blocks``, ``write:blocks``, ``read:mutes``, ``write:mutes``;
``admin:read`` / ``admin:write`` cover their own sub-scopes.

Other API modules (the Koers API, streaming) use ``authenticate`` and nothing else from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import Forbidden, ValidationError
from server.keys import DB
from server.services import oauth
from server.visibility import ANONYMOUS, Viewer

_SUB = (
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
)
_WRITE_SUB = (
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
)
_ADMIN_SUB = (
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
)
FOLLOW_COVERS = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)

SCOPES: frozenset[str] = frozenset(
    {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
    | {f"read:{s}" for s in _SUB}
    | {f"write:{s}" for s in _WRITE_SUB}
    | {f"admin:read:{s}" for s in _ADMIN_SUB}
    | {f"admin:write:{s}" for s in _ADMIN_SUB}
)
DEFAULT_SCOPES = ("read",)


@dataclass(frozen=True, slots=True)
class ApiAuth:
    """An authenticated API caller. ``user_id``/``actor_id`` are None for client-credentials tokens."""

    user_id: int | None
    actor_id: int | None
    scopes: frozenset[str]
    app_id: int | None
    viewer: Viewer
    token_id: int | None = None

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    def need_user(self) -> int:
        """The caller's actor id; a 422 like Mastodon's for app-only tokens."""
        if self.actor_id is None:
            raise ValidationError("this method requires an authenticated user")
        return self.actor_id


@dataclass(frozen=True, slots=True)
class UserAuth(ApiAuth):
    """An API caller acting as a member (what ``user_auth`` returns): the ids are all set."""

    user_id: int
    actor_id: int
    token_id: int


ANONYMOUS_AUTH = ApiAuth(
    user_id=None, actor_id=None, scopes=frozenset(), app_id=None, viewer=ANONYMOUS
)


def parse_scopes(value: str | None, *, allowed: frozenset[str] | None = None) -> tuple[str, ...]:
    """Split a space (or ``+``/comma) separated scope string; unknown scopes are a ValidationError."""
    raw = (value or "").replace("+", " ").replace(",", " ").split()
    if not raw:
        return DEFAULT_SCOPES
    out = tuple(dict.fromkeys(raw))
    unknown = [s for s in out if s not in SCOPES]
    if unknown:
        raise ValidationError(f"unknown scope: {' '.join(unknown)}", field="scope")
    if allowed is not None:
        extra = [s for s in out if not scope_allows(allowed, s)]
        if extra:
            raise ValidationError(
                f"scope not registered for this app: {' '.join(extra)}", field="scope"
            )
    return out


def scope_allows(granted: frozenset[str] | set[str], required: str) -> bool:
    """Whether ``granted`` scopes include ``required`` (directly or by a covering scope)."""
    if required in granted:
        return True
    parts = required.split(":")
    if parts[0] in ("read", "write") and len(parts) == 2:
        if parts[0] in granted:
            return True
        return required in FOLLOW_COVERS and "follow" in granted
    if parts[0] == "admin" and len(parts) == 3:
        return f"admin:{parts[1]}" in granted
    if required == "follow":
        return False
    return False


def _unauthorized(message: str) -> web.HTTPUnauthorized:
    # Raised as an aiohttp HTTP exception so the WWW-Authenticate header rides along; the error
    # middleware keeps it and writes the JSON body.
    return web.HTTPUnauthorized(
        text=message,
        headers={
            "WWW-Authenticate": f'Bearer realm="koers", error="invalid_token", error_description="{message}"'
        },
    )


def bearer_token(request: web.Request) -> str | None:
    """The token of a request: ``Authorization: Bearer …``, or ``access_token`` (WebSocket clients)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    token = request.query.get("access_token") or request.headers.get("Sec-WebSocket-Protocol")
    return token.strip() if token and token.strip() else None


def token_auth_in(conn: Connection, token: str) -> ApiAuth | None:
    """The caller a token belongs to, or None when it is unknown, revoked or expired (a
    unit-of-work function)."""
    return _auth_of(oauth.token_holder_in(conn, token))


def _auth_of(holder: oauth.TokenHolder | None) -> ApiAuth | None:
    if holder is None:
        return None
    if holder.user_id is None:
        return ApiAuth(None, None, holder.scopes, holder.app_id, ANONYMOUS, holder.token_id)
    viewer = Viewer(actor_id=holder.actor_id, local=True, domain=None, is_admin=holder.is_admin)
    return ApiAuth(
        holder.user_id, holder.actor_id, holder.scopes, holder.app_id, viewer, holder.token_id
    )


async def token_auth(conn: AsyncConnection, token: str) -> ApiAuth | None:
    """``token_auth_in`` over an async connection."""
    return await conn.run_sync(token_auth_in, token)


AUTH_KEY: web.RequestKey[ApiAuth | None] = web.RequestKey("api_auth")


async def authenticate(request: web.Request, *scopes: str, required: bool = True) -> ApiAuth:
    """Who is calling. 401 without a valid token (unless ``required=False``: anonymous), 403 when
    the token lacks every one of ``scopes`` (any one of them suffices)."""
    if AUTH_KEY in request:
        auth: ApiAuth | None = request[AUTH_KEY]
    else:
        token = bearer_token(request)
        auth = None
        if token is not None:
            auth = _auth_of(await oauth.cached_token_holder(request.app[DB], token))
            if auth is None:
                raise _unauthorized("The access token is invalid")
        request[AUTH_KEY] = auth
    if auth is None:
        if required:
            raise _unauthorized("The access token is invalid")
        return ANONYMOUS_AUTH
    if scopes and not any(scope_allows(auth.scopes, s) for s in scopes):
        raise Forbidden("This action is outside the authorized scopes")
    return auth


async def user_auth(request: web.Request, *scopes: str) -> UserAuth:
    """``authenticate`` for endpoints that act as a member: app-only tokens get a 422."""
    auth = await authenticate(request, *scopes)
    actor_id = auth.need_user()
    if auth.user_id is None or auth.token_id is None:  # a member's token carries every id
        raise ValidationError("this method requires an authenticated user")
    return UserAuth(auth.user_id, actor_id, auth.scopes, auth.app_id, auth.viewer, auth.token_id)
