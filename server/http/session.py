"""Sessions in signed cookies, and CSRF tokens bound to them.

The cookie holds ``{"uid": user id or None, "csrf": token, "at": when the login began}``, signed with the instance secret
(itsdangerous) and limited in age; every form carries the token and every POST checks it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from server import clock
from server.i18n.messages import Message

COOKIE = "koers_session"
MAX_AGE = 30 * 24 * 3600
SESSION_KEY = web.RequestKey("session", dict)


@dataclass(frozen=True, slots=True)
class SessionData:
    uid: int | None
    csrf: str


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="koers-session")


def load(request: web.Request, secret: str) -> dict:
    """The session of this request (a fresh anonymous one when the cookie is missing or bad)."""
    if SESSION_KEY in request:
        return request[SESSION_KEY]
    data: dict = {}
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            loaded = _serializer(secret).loads(raw, max_age=MAX_AGE)
            if isinstance(loaded, dict):
                data = loaded
        except BadSignature:
            data = {}
    if not isinstance(data.get("csrf"), str):
        data = {"uid": None, "csrf": secrets.token_urlsafe(24), "_new": True}
    request[SESSION_KEY] = data
    return data


def save(request: web.Request, response: web.StreamResponse, secret: str) -> None:
    """Write the session cookie if it changed (or is new)."""
    data = request.get(SESSION_KEY)
    if not data or not (data.get("_new") or data.get("_changed")):
        return
    payload = {k: v for k, v in data.items() if not k.startswith("_")}
    response.set_cookie(
        COOKIE,
        _serializer(secret).dumps(payload),
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.url.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https",
        path="/",
    )


def log_in(request: web.Request, secret: str, user_id: int) -> None:
    """Start a signed-in session with a new CSRF token (no session fixation)."""
    data = load(request, secret)
    data.clear()
    data.update(
        {
            "uid": user_id,
            "csrf": secrets.token_urlsafe(24),
            "at": clock.now().timestamp(),
            "_changed": True,
        }
    )


def started_before(request: web.Request, secret: str, moment: datetime | None) -> bool:
    """Did this session's login begin before ``moment`` (a password reset voids such sessions)?"""
    if moment is None:
        return False
    at = load(request, secret).get("at")
    return not isinstance(at, int | float) or at < clock.aware(moment).timestamp()


def log_out(request: web.Request, secret: str) -> None:
    data = load(request, secret)
    data.clear()
    data.update({"uid": None, "csrf": secrets.token_urlsafe(24), "_changed": True})


def csrf_ok(request: web.Request, secret: str, submitted: str | None) -> bool:
    """Constant-time comparison of the submitted token with the session's."""
    data = load(request, secret)
    return bool(submitted) and hmac.compare_digest(str(submitted), data["csrf"])


def set_flash(request: web.Request, secret: str, message: str) -> None:
    """Keep ``message`` for the next page; a ``Message`` keeps its values, so that page shows it
    in its own language."""
    data = load(request, secret)
    data["flash"] = message.as_data() if isinstance(message, Message) else message[:300]
    data["_changed"] = True


def pop_flash(request: web.Request, secret: str) -> str | None:
    data = load(request, secret)
    message = data.pop("flash", None)
    if message is not None:
        data["_changed"] = True
    if isinstance(message, dict):
        return Message.from_data(message)
    return message if isinstance(message, str) else None
