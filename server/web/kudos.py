"""Giving kudos for a result: pick one of the people it credits and say thank you."""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError, ValidationError
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.keys import CTX
from server.services import kudos
from server.web.community_scope import int_or_none
from server.web.forms import field_errors

routes = web.RouteTableDef()


async def _page(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> web.Response:
    user = await require_user(request)
    result_id = int(request.match_info["post_id"])
    async with request.app[CTX].db.read() as conn:
        people = [
            p
            for p in await kudos.credited_people(conn, await viewer(request), result_id)
            if p.id != user.id
        ]
    choices = [(str(p.id), f"@{p.username}" + (f"@{p.domain}" if p.domain else "")) for p in people]
    return await render(
        request,
        "kudos.html",
        status=status,
        result_id=result_id,
        choices=choices,
        errors=errors or {},
        values=values or {},
    )


@routes.get(r"/results/{post_id:\d+}/kudos")
async def kudos_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post(r"/results/{post_id:\d+}/kudos")
async def kudos_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in ("account_id", "message")}
    try:
        to = int_or_none(values["account_id"], "account_id")
        if to is None:
            raise ValidationError("choose whom to thank", field="account_id")
        reply_id = await kudos.give_kudos(
            request.app[CTX], user.id, int(request.match_info["post_id"]), to, values["message"]
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _page(
            request, status=exc.status, errors=field_errors(exc) or {}, values=values
        )
    flash(request, "Your kudos are on their way.")
    raise redirect(f"/@{user.username}/{reply_id}")
