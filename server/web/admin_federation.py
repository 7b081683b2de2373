"""``/admin/federation``: partner organisations, domain blocks, allow list and the delivery queue."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.policy import SEVERITIES
from server.errors import KoersError
from server.http.pages import flash, form, redirect, render, require_admin
from server.i18n import N_
from server.i18n.messages import Message
from server.keys import CTX
from server.services import federation_admin
from server.web.forms import field_errors

routes = web.RouteTableDef()
PAGE = "/admin/federation"


async def _page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        found = await federation_admin.overview(conn)
    return await render(
        request,
        "admin_federation.html",
        o=found,
        mode=ctx.settings.federation_mode,
        severities=[(s, s.replace("_", " ")) for s in SEVERITIES],
        errors=errors or {},
        values=values or {},
        status=status,
    )


@routes.get(PAGE)
async def federation_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _page(request)


async def _change(request: web.Request, prefix: str, action: Any, message: str) -> web.Response:
    """Run ``action(db, data)``; a wrong field re-renders the page with the error under that form."""
    await require_admin(request)
    data = await form(request)
    try:
        domain = await action(request.app[CTX].db, data)
    except KoersError as exc:
        if (found := field_errors(exc)) is None:
            raise
        values = {k: str(v) for k, v in data.items() if k != "_csrf"}
        errors = {f"{prefix}_{name}": text for name, text in found.items()}
        return await _page(request, errors=errors, values=values, status=exc.status)
    flash(request, Message(message, domain=domain))
    raise redirect(PAGE)


@routes.post(PAGE + "/partners")
async def add_partner(request: web.Request) -> web.Response:
    return await _change(
        request,
        "partner",
        lambda db, d: federation_admin.add_partner(
            db, str(d.get("partner_domain", "")), str(d.get("partner_name", ""))
        ),
        N_("%(domain)s is now a partner organisation."),
    )


@routes.post(PAGE + "/partners/remove")
async def remove_partner(request: web.Request) -> web.Response:
    return await _change(
        request,
        "partner",
        lambda db, d: federation_admin.remove_partner(db, str(d.get("partner_domain", ""))),
        N_("%(domain)s is no longer a partner."),
    )


@routes.post(PAGE + "/blocks")
async def add_block(request: web.Request) -> web.Response:
    return await _change(
        request,
        "block",
        lambda db, d: federation_admin.block(
            db,
            str(d.get("block_domain", "")),
            str(d.get("block_severity", "")),
            str(d.get("block_reason", "")),
        ),
        N_("%(domain)s is blocked."),
    )


@routes.post(PAGE + "/blocks/remove")
async def remove_block(request: web.Request) -> web.Response:
    return await _change(
        request,
        "block",
        lambda db, d: federation_admin.unblock(db, str(d.get("block_domain", ""))),
        N_("%(domain)s is no longer blocked."),
    )
