"""Moderation pages: accounts (search, suspend, silence, roles), the reports queue, the audit log.

Moderators and administrators see them; only administrators change roles. Every action goes
through ``services.moderation`` (which writes the audit log) and redirects back with a message.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import KoersError, NotFound, ValidationError
from server.http.pages import flash, form, redirect, render, require_moderator
from server.http.params import as_id
from server.i18n import N_
from server.i18n.messages import Message
from server.keys import CTX
from server.services import moderation
from server.services.moderation import Staff

routes = web.RouteTableDef()

STATE_FILTERS = (
    ("", "All"),
    ("active", "Active"),
    ("pending", "Waiting for approval"),
    ("suspended", "Suspended"),
    ("silenced", "Silenced"),
    ("staff", "Moderators and administrators"),
)


def _staff(user: Any) -> Staff:
    return Staff(
        actor_id=user.id, is_admin=bool(user.is_admin), is_moderator=bool(user.is_moderator)
    )


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw[:6]) <= 10_000:
        raise ValidationError("page: a page number from 1", field="page")
    return int(raw[:6])


@routes.get("/admin/accounts")
async def accounts_page(request: web.Request) -> web.Response:
    user = await require_moderator(request)
    query = request.query.get("q", "")
    state = request.query.get("state", "")
    page = _page_number(request)
    found, more = await moderation.find_accounts(
        request.app[CTX], query=query, state=state, page=page
    )
    return await render(
        request,
        "admin_accounts.html",
        found=found,
        more=more,
        page=page,
        query=query,
        state=state,
        states=STATE_FILTERS,
        staff=_staff(user),
    )


async def _account_page(
    request: web.Request, username: str, errors: dict[str, str], status: int = 200
) -> web.Response:
    user = await require_moderator(request)
    ctx = request.app[CTX]
    found = await moderation.account(ctx, username)
    history = await moderation.audit_log(ctx, limit=20, target_actor_id=found.actor_id)
    return await render(
        request,
        "admin_account.html",
        a=found,
        history=history,
        roles=moderation.ROLES,
        staff=_staff(user),
        errors=errors,
        status=status,
    )


@routes.get(r"/admin/accounts/{username:[a-z0-9_]{1,30}}")
async def account_page(request: web.Request) -> web.Response:
    return await _account_page(request, request.match_info["username"], {})


ACTIONS = {
    "suspend": N_(
        "@%(name)s is suspended: they cannot log in and other servers are told to delete the account."
    ),
    "unsuspend": N_(
        "@%(name)s can log in again; other servers are told to fetch the account anew."
    ),
    "silence": N_("@%(name)s is silenced: their posts leave the public feeds."),
    "unsilence": N_("@%(name)s is no longer silenced."),
    "role": N_("@%(name)s is now %(role)s."),
    "reset": N_("A password-reset link is on its way to @%(name)s's e-mail address."),
}
ROLE_WORDS = {
    "admin": N_("an administrator"),
    "moderator": N_("a moderator"),
    "member": N_("a member"),
}
REPORT_OUTCOMES = {
    "none": N_("Report #%(num)s is dismissed."),
    "silence": N_("Report #%(num)s is resolved: the account is silenced."),
    "suspend": N_("Report #%(num)s is resolved: the account is suspended."),
}


@routes.post(
    r"/admin/accounts/{username:[a-z0-9_]{1,30}}/{action:suspend|unsuspend|silence|unsilence|role|reset}"
)
async def account_action(request: web.Request) -> web.Response:
    user = await require_moderator(request)
    data = await form(request)
    ctx = request.app[CTX]
    username, action = request.match_info["username"], request.match_info["action"]
    note = str(data.get("note", ""))
    by = _staff(user)
    try:
        if action == "suspend":
            done = await moderation.suspend(ctx, by, username, note)
        elif action == "unsuspend":
            done = await moderation.unsuspend(ctx, by, username, note)
        elif action in ("silence", "unsilence"):
            done = await moderation.set_silenced(ctx, by, username, action == "silence", note)
        elif action == "reset":
            await moderation.send_password_reset(ctx, by, username, note)
            done = await moderation.account(ctx, username)
        else:
            done = await moderation.set_role(ctx, by, username, str(data.get("role", "")), note)
    except ValidationError as exc:
        return await _account_page(
            request, username, {f"{action}_{exc.field or 'note'}": exc.message}, exc.status
        )
    role = Message(ROLE_WORDS[done.role]) if done.role in ROLE_WORDS else str(done.role)
    flash(request, Message(ACTIONS[action], name=done.username, role=role))
    raise redirect(f"/admin/accounts/{done.username}")


@routes.get("/admin/reports")
async def reports_page(request: web.Request) -> web.Response:
    user = await require_moderator(request)
    resolved = request.query.get("resolved", "") == "1"
    page = _page_number(request)
    found = await moderation.list_reports(request.app[CTX], resolved=resolved, page=page)
    return await render(
        request,
        "admin_reports.html",
        reports=found,
        resolved=resolved,
        page=page,
        staff=_staff(user),
        errors={},
    )


@routes.post("/admin/reports/{report_id}/resolve")
async def resolve_report(request: web.Request) -> web.Response:
    user = await require_moderator(request)
    data = await form(request)  # the CSRF check comes before anything is read from the path
    report_id = as_id(request.match_info["report_id"])
    if report_id is None:
        raise NotFound("no such report")
    action = str(data.get("action", ""))
    try:
        await moderation.resolve_report(
            request.app[CTX], _staff(user), report_id, action, str(data.get("note", ""))
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        found = await moderation.list_reports(request.app[CTX])
        return await render(
            request,
            "admin_reports.html",
            reports=found,
            resolved=False,
            page=1,
            staff=_staff(user),
            errors={f"{report_id}_{exc.field}": exc.message},
            status=exc.status,
        )
    flash(request, Message(REPORT_OUTCOMES[action], num=str(report_id)))
    raise redirect("/admin/reports")


@routes.get("/admin/audit")
async def audit_page(request: web.Request) -> web.Response:
    await require_moderator(request)
    raw = request.query.get("before", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValidationError("before: an entry number", field="before")
    entries = await moderation.audit_log(
        request.app[CTX], limit=100, before=int(raw) if raw else None
    )
    return await render(request, "admin_audit.html", entries=entries)
