"""After a correct password: the two-factor step, or signing in (and a pending identity link).

The login page and the OAuth authorize page share this. A member with two-factor sign-in is not
signed in yet: the session remembers who passed the password (for ten minutes) and where they
were going, and ``/login/2fa`` asks for the code. A provider identity waiting to be linked
(single sign-on found a member with its e-mail) is linked when that member signs in.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from aiohttp import web

from server import keys
from server.errors import KoersError
from server.http import session
from server.http.pages import USER_KEY, flash
from server.i18n.messages import Message
from server.services import oidc_accounts, totp
from server.services.oidc import Claims

log = logging.getLogger(__name__)

PENDING_TTL = 600
PENDING_KEY = "tfa"
LINK_KEY = "oidc_link"


def _session(request: web.Request) -> dict[str, Any]:
    return session.load(request, request.app[keys.SETTINGS].secret)


def pending(request: web.Request) -> dict[str, Any] | None:
    """The password sign-in waiting for its second step, if fresh: ``uid``, ``next``, ``step``."""
    data = _session(request).get(PENDING_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    if not isinstance(data.get("at"), int | float) or time.time() - data["at"] > PENDING_TTL:
        return None
    return data


def remember_link(request: web.Request, claims: Claims) -> None:
    """Keep a provider identity in the session until its member signs in with a password."""
    data = _session(request)
    data[LINK_KEY] = {
        "iss": claims.issuer,
        "sub": claims.subject,
        "email": claims.email,
        "at": int(time.time()),
    }
    data["_changed"] = True


async def signed_in(request: web.Request, user_id: int) -> None:
    """Start the member's session, and link the provider identity waiting in it."""
    data = _session(request)
    link = data.get(LINK_KEY)
    session.log_in(request, request.app[keys.SETTINGS].secret, user_id)
    request.pop(USER_KEY, None)
    if isinstance(link, dict) and time.time() - float(link.get("at", 0)) <= PENDING_TTL:
        claims = Claims(str(link["iss"]), str(link["sub"]), str(link["email"]), False, "", "")
        try:
            await oidc_accounts.link_identity(request.app[keys.DB], user_id, claims)
        except KoersError as exc:
            flash(request, exc.message)
        else:
            name = request.app[keys.SETTINGS].oidc_name
            flash(
                request,
                Message("Your %(name)s account is linked: next time, sign in with it.", name=name),
            )


async def password_verified(request: web.Request, user_id: int, next_url: str) -> None:
    """Sign in after a correct password, or send the browser to the two-factor step.

    Raises ``HTTPFound`` to ``/login/2fa`` (or its set-up page) when a code is needed;
    raises ``Forbidden`` when passwords are off for this member (``KOERS_OIDC_ONLY``).
    """
    settings = request.app[keys.SETTINGS]
    step = await totp.password_step(request.app[keys.DB], settings, user_id)
    if step == "done":
        await signed_in(request, user_id)
        return
    data = _session(request)
    link = data.get(LINK_KEY)
    data.clear()
    data.update(
        {
            "uid": None,
            "csrf": secrets.token_urlsafe(24),
            PENDING_KEY: {"uid": user_id, "next": next_url, "step": step, "at": int(time.time())},
            "_changed": True,
        }
    )
    if link is not None:
        data[LINK_KEY] = link
    raise web.HTTPFound("/login/2fa/setup" if step == "enrol" else "/login/2fa")
