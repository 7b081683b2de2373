"""The administrators' page: the sign-up approval queue, the accounts, and invite links."""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError, ValidationError
from server.http.pages import flash, form, redirect, render, require_admin
from server.i18n import N_
from server.keys import CTX
from server.services import accounts, branding, moderation
from server.services.media import ProcessedImage
from server.web.forms import field_errors
from server.web.media import prepared_upload
from server.web.settings import INVITE_LABELS, INVITE_VALUES, invite_from_form

routes = web.RouteTableDef()


async def _admin_page(
    request: web.Request, errors: dict, status: int = 200, values: dict[str, str] | None = None
) -> web.Response:
    ctx = request.app[CTX]
    pending = await accounts.pending_signups(ctx.db)
    return await render(
        request,
        "admin.html",
        pending=pending,
        accounts=await accounts.list_accounts(ctx.db),
        errors=errors,
        values=values or {},
        field_labels=INVITE_LABELS,
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
        if (errors := field_errors(exc)) is None:
            raise
        return await _admin_page(request, errors, exc.status, request.get(INVITE_VALUES, {}))
    raise redirect("/admin")


async def _change_logo(
    request: web.Request, admin_id: int, image: ProcessedImage | None, message: str
) -> web.Response:
    ctx = request.app[CTX]
    await branding.set_logo(ctx, image)
    by = moderation.Staff(actor_id=admin_id, is_admin=True)
    await moderation.record(ctx, by, "set_logo" if image else "remove_logo", "organisation logo")
    flash(request, message)
    raise redirect("/admin")


@routes.post("/admin/logo")
async def upload_logo(request: web.Request) -> web.Response:
    """Make the uploaded image the organisation's logo (the header shows it instead of initials)."""
    admin = await require_admin(request)
    data = await form(request)
    try:
        image = await prepared_upload(data, "logo", "avatar")
        if image is None:
            raise ValidationError("logo: choose an image to upload", field="logo")
    except KoersError as exc:
        return await _admin_page(request, {exc.field or "logo": exc.message}, exc.status)
    return await _change_logo(request, admin.id, image, N_("The new logo is in place."))


@routes.post("/admin/logo/remove")
async def remove_logo(request: web.Request) -> web.Response:
    """Go back to the initials mark."""
    admin = await require_admin(request)
    await form(request)
    return await _change_logo(
        request, admin.id, None, N_("The logo is removed; the header shows the initials again.")
    )
