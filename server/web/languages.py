"""The member's choice of interface language (a small form on the profile settings page)."""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError
from server.http.pages import flash, form, redirect, render_error, require_user
from server.i18n import N_
from server.keys import CTX
from server.services import languages

routes = web.RouteTableDef()


@routes.post("/settings/language")
async def language_submit(request: web.Request) -> web.StreamResponse:
    """Store the chosen language ("" lets the browser decide) and go back to the settings."""
    user = await require_user(request)
    data = await form(request)
    try:
        await languages.set_language(
            request.app[CTX].db, user.user_id, str(data.get("language", ""))
        )
    except KoersError as exc:
        return await render_error(request, exc.status, exc.message)
    flash(request, N_("Your language is saved."))
    raise redirect("/settings/profile")
