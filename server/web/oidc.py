"""Single sign-on pages: ``/auth/oidc/login`` sends the browser to the provider, the callback
brings it back signed in (or explains why not), ``/auth/oidc/link`` links a signed-in member.

The browser is bound to its sign-in by a random value in its session cookie, whose hash the
pending sign-in row keeps; the provider's ``state`` finds the row, once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from federation.state import FETCHER
from server.http import session, sign_in
from server.http.pages import flash, form, redirect, render, require_user
from server.i18n.messages import Message
from server.keys import DB, SETTINGS
from server.services import oidc_accounts
from server.services.oidc import OidcClient, SignInFailed
from server.web.auth import _safe_next
from server.web.oidc_transport import GuardedTransport

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

OIDC_CLIENT = web.AppKey("oidc_client", OidcClient)
BROWSER_KEY = "oidc_browser"


def setup_app(app: web.Application) -> None:
    """Keep one client per app (its provider metadata and keys stay cached) when SSO is on."""
    if app[SETTINGS].oidc_enabled:
        app[OIDC_CLIENT] = OidcClient(app[SETTINGS], _LateTransport(app))


class _LateTransport:
    """The guarded transport over the app's fetcher, which exists once federation is set up."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def _inner(self) -> GuardedTransport:
        return GuardedTransport(self.app[FETCHER])

    async def get_json(self, url: str, *, bearer: str | None = None) -> dict[str, Any]:
        return await self._inner().get_json(url, bearer=bearer)

    async def post_form(
        self, url: str, form: Mapping[str, str], *, basic: tuple[str, str]
    ) -> dict[str, Any]:
        return await self._inner().post_form(url, form, basic=basic)


def _client(request: web.Request) -> OidcClient:
    if OIDC_CLIENT not in request.app:
        raise web.HTTPNotFound(text="single sign-on is not configured on this instance")
    return request.app[OIDC_CLIENT]


def _browser(request: web.Request) -> str:
    """This browser's binding (created on first use; survives signing in and out)."""
    data = session.load(request, request.app[SETTINGS].secret)
    value = data.get(BROWSER_KEY)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(24)
        data[BROWSER_KEY] = value
        data["_changed"] = True
    return value


async def _failed(request: web.Request, exc: SignInFailed) -> web.Response:
    log.warning("single sign-on failed: %s", exc.reason)
    return await render(
        request,
        "oidc_error.html",
        status=exc.status,
        message=exc.message,
        provider=request.app[SETTINGS].oidc_name,
    )


async def _begin(request: web.Request, next_url: str, **kw: object) -> web.Response:
    client = _client(request)
    browser = _browser(request)
    try:
        url = await oidc_accounts.begin(
            request.app[DB],
            client,
            browser=browser,
            next_url=next_url,
            **kw,  # type: ignore[arg-type]
        )
    except SignInFailed as exc:
        return await _failed(request, exc)
    raise web.HTTPFound(url)


@routes.get("/auth/oidc/login")
async def login(request: web.Request) -> web.Response:
    """Send the browser to the provider; it comes back to the callback."""
    _client(request)
    invite = request.query.get("invite", "")[:64] or None
    return await _begin(request, _safe_next(request.query.get("next")), invite_code=invite)


@routes.post("/auth/oidc/link")
async def link(request: web.Request) -> web.Response:
    """A signed-in member links their provider identity (after signing in there)."""
    user = await require_user(request)
    await form(request)
    return await _begin(request, "/settings/security", link_user_id=user.user_id)


@routes.get("/auth/oidc/callback")
async def callback(request: web.Request) -> web.Response:
    """The provider's answer: check everything, then sign in, link, or explain."""
    settings = request.app[SETTINGS]
    client = _client(request)
    data = session.load(request, settings.secret)
    browser = data.get(BROWSER_KEY) if isinstance(data.get(BROWSER_KEY), str) else ""
    try:
        pending = await oidc_accounts.take(
            request.app[DB], state=request.query.get("state", ""), browser=str(browser)
        )
        if "error" in request.query:
            raise SignInFailed(
                f"{settings.oidc_name} did not sign you in: "
                f"{request.query.get('error_description') or request.query['error']}",
                reason=f"provider answered error {request.query['error']!r}",
                status=403,
            )
        code = request.query.get("code", "")
        if not code:
            raise SignInFailed(
                "The sign-in provider sent no code back. Please start again.",
                reason="callback without code",
            )
        claims = await client.finish(
            code=code, nonce=pending.nonce, code_verifier=pending.code_verifier
        )
        outcome = await oidc_accounts.complete(request.app[DB], settings, claims, pending)
    except SignInFailed as exc:
        return await _failed(request, exc)
    if outcome.kind == "linked":
        flash(
            request,
            Message(
                "Your %(oidc_name)s account is linked to this account.",
                oidc_name=settings.oidc_name,
            ),
        )
        raise redirect(pending.next_url)
    if outcome.kind == "needs_link":
        sign_in.remember_link(request, claims)
        flash(
            request,
            Message(
                "An account with the address %(email)s exists here already. Log in with its password once to link your %(oidc_name)s account to it.",
                email=outcome.email,
                oidc_name=settings.oidc_name,
            ),
        )
        raise redirect("/login?" + urlencode({"password": "1", "next": pending.next_url}))
    if outcome.kind == "pending":
        flash(
            request,
            "Thanks! An administrator will review your account; you can sign in once it is approved.",
        )
        raise redirect("/login")
    assert outcome.user_id is not None
    await sign_in.signed_in(request, outcome.user_id)
    log.info("@%s signed in through %s", outcome.username, settings.oidc_issuer)
    raise redirect(pending.next_url)
