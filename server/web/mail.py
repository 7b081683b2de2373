"""Pages of e-mail: password reset, the links in mail (confirm, new address, unsubscribe), settings.

Every form checks its input before anything is written and answers a bad link or address with a
clear page. The one-click unsubscribe (RFC 8058) is a POST a mail client sends without a session,
so it carries no CSRF token: the signed link is the authorisation, and it can only turn mail off.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import FieldErrors, KoersError, ValidationError
from server.http import session
from server.http.pages import flash, form, redirect, render, require_user
from server.http.rate_limit import client_address
from server.i18n import N_
from server.i18n.messages import Message
from server.keys import CTX, SETTINGS
from server.services import (
    accounts,
    mail_accounts,
    mail_invites,
    mail_members,
    mail_opt_outs,
    mail_render,
)
from server.web.forms import field_errors

routes = web.RouteTableDef()

RESET_SENT = N_(
    "If %(email)s belongs to an account here, we have sent it a link to choose a new password. "
    "It works once, for one hour. No e-mail? Look in your spam folder, or ask again in a while."
)
RESET_LABELS = {"password": N_("New password"), "password_confirm": N_("The new password again")}


def _client(request: web.Request) -> str:
    return client_address(request)  # behind a trusted proxy, the forwarded client


async def _bad_link(request: web.Request, message: str, again: str) -> web.Response:
    return await render(
        request,
        "mail_page.html",
        title="This link does not work",
        message=message,
        again=again,
        status=410,
    )


@routes.get("/password/reset")
async def reset_ask_page(request: web.Request) -> web.Response:
    return await render(request, "password_reset.html", step="ask", values={}, errors={})


@routes.post("/password/reset")
async def reset_ask_submit(request: web.Request) -> web.Response:
    data = await form(request)
    email = str(data.get("email", "")).strip()[:320]
    try:
        await mail_accounts.request_reset(request.app[CTX], email, _client(request))
    except ValidationError as exc:
        return await render(
            request,
            "password_reset.html",
            step="ask",
            values={"email": email},
            errors={"email": exc.message},
            status=422,
        )
    return await render(
        request,
        "password_reset.html",
        step="sent",
        message=Message(RESET_SENT, email=email),
        values={},
        errors={},
    )


@routes.get("/password/reset/{token}")
async def reset_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    try:
        await mail_accounts.check_reset_link(request.app[CTX], token, _client(request))
    except ValidationError as exc:
        return await _bad_link(request, exc.message, "/password/reset")
    return await render(
        request, "password_reset.html", step="new", token=token, values={}, errors={}
    )


@routes.post("/password/reset/{token}")
async def reset_submit(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    data = await form(request)
    password = str(data.get("password", ""))
    found = FieldErrors()  # a short password and a mistyped repeat are told together
    with found.check("password"):
        accounts.check_password(password)
    if password != str(data.get("password_confirm", "")):
        found.add("password_confirm", "the passwords do not match")
    if found:
        return await render(
            request,
            "password_reset.html",
            step="new",
            token=token,
            values={},
            errors=found.errors,
            field_labels=RESET_LABELS,
            status=422,
        )
    try:
        await mail_accounts.reset_password(request.app[CTX], token, password, _client(request))
    except ValidationError as exc:
        if exc.field == "token":
            return await _bad_link(request, exc.message, "/password/reset")
        return await render(
            request,
            "password_reset.html",
            step="new",
            token=token,
            values={},
            errors={"password": exc.message},
            status=422,
        )
    session.log_out(request, request.app[SETTINGS].secret)
    flash(
        request,
        "Your password is changed, and every session and app of yours is logged out. "
        "Log in with the new password.",
    )
    raise redirect("/login")


@routes.get("/mail/confirm/{token}")
async def confirm_link(request: web.Request) -> web.Response:
    try:
        await mail_accounts.confirm(request.app[CTX], request.match_info["token"])
    except ValidationError as exc:
        return await _bad_link(request, exc.message, "/settings/email")
    return await render(
        request,
        "mail_page.html",
        title="Address confirmed",
        message="Thank you: your address is confirmed, and you can post now.",
        again=None,
    )


@routes.get("/mail/change/{token}")
async def change_link(request: web.Request) -> web.Response:
    try:
        address = await mail_accounts.finish_email_change(
            request.app[CTX], request.match_info["token"]
        )
    except KoersError as exc:
        if exc.field != "token":
            raise
        return await _bad_link(request, exc.message, "/settings/email")
    return await render(
        request,
        "mail_page.html",
        title="Address changed",
        message=Message("From now on we write to %(address)s.", address=address),
        again=None,
    )


@routes.get("/mail/unsubscribe/{token}")
async def unsubscribe_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    settings = request.app[SETTINGS]
    found = mail_render.read_unsubscribe_token(
        settings, token
    ) or mail_render.read_address_unsubscribe_token(settings, token)
    if found is None:
        return await _bad_link(
            request, "this unsubscribe link is not one of ours", "/settings/email"
        )
    return await render(
        request,
        "mail_page.html",
        title="Stop these e-mails?",
        message=None,
        again=None,
        unsubscribe=request.path,
    )


@routes.post("/mail/unsubscribe/{token}")
async def unsubscribe(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    await request.post()  # "List-Unsubscribe=One-Click" from a mail client, or the page's button
    token = request.match_info["token"]
    found = mail_render.read_unsubscribe_token(settings, token)
    by_address = mail_render.read_address_unsubscribe_token(settings, token)
    if found is not None:
        await mail_members.unsubscribe(request.app[CTX].db, *found)
    elif by_address is not None:
        await mail_opt_outs.opt_out(request.app[CTX].db, *by_address)
    else:
        return await _bad_link(
            request, "this unsubscribe link is not one of ours", "/settings/email"
        )
    return await render(
        request,
        "mail_page.html",
        title="Unsubscribed",
        message="You will get no more of these e-mails. Settings → E-mail turns them on again."
        if found is not None
        else f"Nobody on {settings.instance_name} can invite this address again.",
        again=None,
    )


async def _settings(
    request: web.Request,
    user_id: int,
    *,
    errors: dict | None = None,
    status: int = 200,
    values: dict | None = None,
) -> web.Response:
    view = await mail_members.settings_view(request.app[CTX].db, user_id)
    return await render(
        request,
        "settings_email.html",
        view=view,
        labels=mail_members.NOTIFY_LABELS,
        errors=errors or {},
        values=values or {},
        status=status,
    )


@routes.get("/settings/email")
async def settings_page(request: web.Request) -> web.Response:
    user = await require_user(request)
    return await _settings(request, user.user_id)


@routes.post("/settings/email/choices")
async def settings_choices(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    notify = {kind: data.get(f"notify_{kind}") == "on" for kind in mail_members.NOTIFY_DEFAULTS}
    await mail_members.set_choices(
        request.app[CTX].db, user.user_id, notify, data.get("digest") == "on"
    )
    flash(request, "Your e-mail choices are saved.")
    raise redirect("/settings/email")


@routes.post("/settings/email/resend")
async def settings_resend(request: web.Request) -> web.Response:
    user = await require_user(request)
    await form(request)
    try:
        await mail_accounts.resend_confirmation(request.app[CTX], user.user_id)
    except ValidationError as exc:
        return await _settings(request, user.user_id, errors={"resend": exc.message}, status=422)
    flash(request, "We sent a new confirmation link.")
    raise redirect("/settings/email")


@routes.post("/settings/email/change")
async def settings_change(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    email = str(data.get("email", "")).strip()[:320]
    try:
        address = await mail_accounts.start_email_change(
            request.app[CTX], user.user_id, email, str(data.get("password", ""))
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _settings(
            request,
            user.user_id,
            errors=field_errors(exc) or {},
            status=exc.status,
            values={"email": email},
        )
    flash(
        request,
        Message(
            "We sent a link to %(address)s: follow it to start using that address.", address=address
        ),
    )
    raise redirect("/settings/email")


@routes.post("/settings/email/invite")
async def settings_invite(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    email = str(data.get("invite_email", "")).strip()[:320]
    try:
        await mail_invites.invite(request.app[CTX], user.user_id, email)
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _settings(
            request,
            user.user_id,
            errors={"invite_email": exc.message},
            status=exc.status,
            values={"invite_email": email},
        )
    flash(request, Message("We sent an invitation to %(email)s.", email=email))
    raise redirect("/settings/email")
