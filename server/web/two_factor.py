"""Two-factor sign-in pages: the code step after a password (``/login/2fa``), the set-up an
administrator must finish first when it is required (``/login/2fa/setup``), and the member's
security settings (``/settings/security``: turn it on or off, new recovery codes, linked
sign-in provider).
"""

from __future__ import annotations

from aiohttp import web

from server.errors import Forbidden, KoersError, RateLimited
from server.http import sign_in
from server.http.pages import flash, form, redirect, render, require_user
from server.http.rate_limit import client_address
from server.i18n import N_
from server.keys import DB, SETTINGS
from server.services import accounts, oidc_accounts, totp

routes = web.RouteTableDef()
CODE_LABELS = {
    "code": N_("Code"),
    "code_recovery": N_("Current code"),
    "code_disable": N_("Current code or a recovery code"),
}


def _pending(request: web.Request, step: str) -> dict:
    waiting = sign_in.pending(request)
    if waiting is None:
        flash(request, "Please log in again (the sign-in expired).")
        raise redirect("/login")
    if waiting["step"] != step:
        raise redirect("/login/2fa/setup" if waiting["step"] == "enrol" else "/login/2fa")
    return waiting


def _code(data: object, name: str = "code") -> str:
    """The code typed in field ``name`` (the security page has two, ``code_disable`` and
    ``code_recovery``; ``code`` is read too, as older forms send it)."""
    if not hasattr(data, "get"):
        return ""
    return str(data.get(name) or data.get("code", ""))[:40]


@routes.get("/login/2fa")
async def code_page(request: web.Request) -> web.Response:
    _pending(request, "code")
    return await render(request, "login_2fa.html", errors={})


@routes.post("/login/2fa")
async def code_submit(request: web.Request) -> web.Response:
    data = await form(request)
    waiting = _pending(request, "code")
    address = client_address(request)
    try:
        await totp.verify_sign_in(
            request.app[DB], request.app[SETTINGS], waiting["uid"], _code(data), address
        )
    except RateLimited as exc:
        return await render(
            request,
            "login_2fa.html",
            errors={"code": exc.message},
            field_labels=CODE_LABELS,
            status=429,
        )
    except Forbidden as exc:
        return await render(
            request,
            "login_2fa.html",
            errors={"code": exc.message},
            field_labels=CODE_LABELS,
            status=403,
        )
    await sign_in.signed_in(request, waiting["uid"])
    raise redirect(str(waiting["next"]))


async def _setup_page(
    request: web.Request,
    secret: str,
    username: str,
    action: str,
    *,
    error: str = "",
    status: int = 200,
) -> web.Response:
    uri = totp.provisioning_uri(request.app[SETTINGS], secret, username)
    return await render(
        request,
        "two_factor_setup.html",
        status=status,
        secret=secret,
        uri=uri,
        qr=totp.provisioning_qr(uri),
        action=action,
        errors={"code": error} if error else {},
        field_labels=CODE_LABELS,
    )


async def _username(request: web.Request, user_id: int) -> str:
    async with request.app[DB].read() as conn:
        user = await accounts.get_user(conn, user_id)
    return str(user.username) if user is not None else ""


@routes.get("/login/2fa/setup")
async def enrol_page(request: web.Request) -> web.Response:
    waiting = _pending(request, "enrol")
    db, settings = request.app[DB], request.app[SETTINGS]
    secret = await totp.pending_secret(db, settings, waiting["uid"])
    secret = secret or await totp.start_setup(db, settings, waiting["uid"])
    return await _setup_page(
        request, secret, await _username(request, waiting["uid"]), "/login/2fa/setup"
    )


@routes.post("/login/2fa/setup")
async def enrol_submit(request: web.Request) -> web.Response:
    data = await form(request)
    waiting = _pending(request, "enrol")
    db, settings = request.app[DB], request.app[SETTINGS]
    try:
        codes = await totp.confirm_setup(db, settings, waiting["uid"], _code(data))
    except KoersError as exc:
        secret = await totp.pending_secret(db, settings, waiting["uid"]) or ""
        return await _setup_page(
            request,
            secret,
            await _username(request, waiting["uid"]),
            "/login/2fa/setup",
            error=exc.message,
            status=422,
        )
    await sign_in.signed_in(request, waiting["uid"])
    return await render(request, "two_factor_codes.html", codes=codes, next=str(waiting["next"]))


@routes.get("/settings/security")
async def security_page(request: web.Request) -> web.Response:
    user = await require_user(request)
    db = request.app[DB]
    return await render(
        request,
        "settings_security.html",
        status_2fa=await totp.status(db, user.user_id),
        identities=await oidc_accounts.identities_of(db, user.user_id),
        errors={},
    )


@routes.post("/settings/2fa/setup")
async def settings_setup(request: web.Request) -> web.Response:
    user = await require_user(request)
    await form(request)
    secret = await totp.start_setup(request.app[DB], request.app[SETTINGS], user.user_id)
    return await _setup_page(request, secret, user.username, "/settings/2fa/confirm")


@routes.post("/settings/2fa/confirm")
async def settings_confirm(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    db, settings = request.app[DB], request.app[SETTINGS]
    try:
        codes = await totp.confirm_setup(db, settings, user.user_id, _code(data))
    except KoersError as exc:
        secret = await totp.pending_secret(db, settings, user.user_id)
        if secret is None:
            raise
        return await _setup_page(
            request, secret, user.username, "/settings/2fa/confirm", error=exc.message, status=422
        )
    return await render(request, "two_factor_codes.html", codes=codes, next="/settings/security")


async def _with_code(request: web.Request, action: str) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    db, settings = request.app[DB], request.app[SETTINGS]
    try:
        if action == "disable":
            await totp.disable(db, settings, user.user_id, _code(data, "code_disable"))
        else:
            codes = await totp.regenerate_recovery_codes(
                db, settings, user.user_id, _code(data, "code_recovery")
            )
    except KoersError as exc:
        return await render(
            request,
            "settings_security.html",
            status=exc.status,
            status_2fa=await totp.status(db, user.user_id),
            identities=await oidc_accounts.identities_of(db, user.user_id),
            errors={f"code_{action}": exc.message},
            field_labels=CODE_LABELS,
        )
    if action == "disable":
        flash(request, "Two-factor sign-in is off.")
        raise redirect("/settings/security")
    return await render(request, "two_factor_codes.html", codes=codes, next="/settings/security")


@routes.post("/settings/2fa/disable")
async def settings_disable(request: web.Request) -> web.Response:
    return await _with_code(request, "disable")


@routes.post("/settings/2fa/recovery")
async def settings_recovery(request: web.Request) -> web.Response:
    return await _with_code(request, "recovery")
