"""Sign-up (by registration mode and invite links), login, logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from server.errors import FieldErrors, Forbidden, KoersError, RateLimited
from server.http import session, sign_in
from server.http.pages import current_user, flash, form, redirect, render
from server.http.rate_limit import client_address
from server.i18n import N_
from server.i18n.messages import Message
from server.keys import DB, SETTINGS
from server.services import accounts
from server.web.forms import field_errors

routes = web.RouteTableDef()
SIGNUP_LABELS = {
    "username": N_("Username"),
    "display_name": N_("Display name"),
    "email": N_("Email"),
    "password": N_("Password"),
    "password_confirm": N_("Password again"),
    "reason": N_("Why do you want to join?"),
    "invite": N_("Invite link"),
}


def _safe_next(value: str | None) -> str:
    """Only local paths may be redirect targets after login (no open redirect)."""
    if not value:
        return "/home"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/home"
    return value


def _client_address(request: web.Request) -> str:
    return client_address(request)


@routes.get("/signup")
async def signup_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    invite = request.query.get("invite", "")
    if settings.registrations == "closed":
        return await render(
            request, "signup.html", closed=True, invite=invite, values={}, errors={}, status=403
        )
    if settings.registrations == "invite" and not invite:
        return await render(
            request, "signup.html", need_invite=True, invite="", values={}, errors={}, status=403
        )
    return await render(request, "signup.html", invite=invite, values={}, errors={})


@routes.post("/signup")
async def signup_submit(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    data = await form(request)
    values = {
        k: str(data.get(k, "")) for k in ("username", "email", "display_name", "reason", "invite")
    }
    mode = settings.registrations
    if settings.oidc_only:
        raise Forbidden(Message("on this instance, join with %(name)s", name=settings.oidc_name))
    if mode == "closed":
        raise Forbidden("sign-up is closed on this instance")
    invite_code = values["invite"] or None
    if mode == "invite" and not invite_code:
        raise Forbidden("sign-up on this instance needs an invite link")
    password = str(data.get("password", ""))
    found = FieldErrors()
    accounts.check_new_account(values["username"], values["email"], password, found)
    if password != str(data.get("password_confirm", password)):
        found.add("password_confirm", "password_confirm: the two passwords are not the same")
    if found:
        return await _signup_again(request, values, found.errors, 422)
    state = "pending" if mode == "approval" and not invite_code else "active"
    try:
        account = await accounts.create_account(
            request.app[DB],
            settings,
            username=values["username"],
            email=values["email"],
            password=password,
            display_name=values["display_name"],
            state=state,
            reason=values["reason"],
            invite_code=invite_code,
            confirm_email=True,
        )
    except KoersError as exc:
        if (errors := field_errors(exc)) is None:
            raise
        return await _signup_again(request, values, errors, exc.status)
    if state == "pending":
        flash(
            request,
            "Thanks! Follow the link we sent to confirm your address; an administrator will review "
            "your request, and you can log in once it is approved.",
        )
        raise redirect("/login")
    session.log_in(request, settings.secret, account.user_id)
    flash(
        request,
        Message(
            "Welcome, @%(name)s! We sent a link to %(address)s: follow it to confirm your address "
            "before you post. Meanwhile, fill in your profile.",
            name=account.username,
            address=values["email"].strip(),
        ),
    )
    raise redirect("/settings/profile")


async def _signup_again(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int
) -> web.Response:
    """The sign-up form again with every error of what was sent, and what was typed kept."""
    return await render(
        request,
        "signup.html",
        invite=values["invite"],
        values=values,
        errors=errors,
        field_labels=SIGNUP_LABELS,
        status=status,
    )


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    if await current_user(request) is not None:
        raise redirect(_safe_next(request.query.get("next")))
    return await render(
        request, "login.html", next=_safe_next(request.query.get("next")), values={}, errors={}
    )


@routes.post("/login")
async def login_submit(request: web.Request) -> web.Response:
    data = await form(request)
    login = str(data.get("login", ""))[:320]
    next_url = _safe_next(str(data.get("next", "")))
    try:
        account = await accounts.authenticate(
            request.app[DB], login, str(data.get("password", "")), _client_address(request)
        )
        await sign_in.password_verified(request, account.user_id, next_url)
    except RateLimited:
        raise
    except Forbidden as exc:
        return await render(
            request,
            "login.html",
            next=next_url,
            values={"login": login},
            errors={"password": exc.message},
            status=403,
        )
    raise redirect(next_url)


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await form(request)
    session.log_out(request, request.app[SETTINGS].secret)
    flash(request, "You are logged out.")
    raise redirect("/")
