"""The administrators' page: the sign-up approval queue, the accounts, and invite links."""

from __future__ import annotations

from aiohttp import web

from server.errors import ValidationError
from server.http.pages import flash, form, redirect, render, require_admin
from server.keys import CTX
from server.services import accounts, moderation
from server.web.settings import invite_from_form

routes = web.RouteTableDef()


async def _admin_page(request: web.Request, errors: dict, status: int = 200) -> web.Response:
    ctx = request.app[CTX]
    pending = await accounts.pending_signups(ctx.db)
    return await render(
        request,
        "admin.html",
        pending=pending,
        accounts=await accounts.list_accounts(ctx.db),
        errors=errors,
        status=status,
    )


@routes.get("/admin")
async def admin_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _admin_page(request, {})


@routes.post(r"/admin/users/{user_id:\d+}/{decision:approve|reject}")
async def decide_signup(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    admin = await require_admin(request)
    await form(request)
    user_id = int(request.match_info["user_id"])
    decision = request.match_info["decision"]
    by = moderation.Staff(actor_id=admin.id, is_admin=True)
    await moderation.record(ctx, by, f"{decision}_signup", f"sign-up #{user_id}")
    if decision == "approve":
        await accounts.approve_user(ctx.db, user_id)
        flash(request, "The account is approved; its owner can log in now.")
    else:
        await accounts.reject_user(ctx.db, user_id)
        flash(request, "The sign-up request is rejected and removed.")
    raise redirect("/admin")


@routes.post("/admin/invites")
async def admin_invite(request: web.Request) -> web.Response:
    user = await require_admin(request)
    try:
        await invite_from_form(request, user)
    except ValidationError as exc:
        return await _admin_page(request, {exc.field: exc.message}, exc.status)
    raise redirect("/admin")
