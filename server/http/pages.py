"""Rendering pages and knowing who is looking: the signed-in member, the CSRF token, flashes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server import clock, i18n, keys
from server.errors import Forbidden, NotAuthenticated, TooLarge
from server.http import session
from server.http.language import request_language
from server.i18n import negotiate
from server.i18n.messages import Message, translate
from server.services import accounts, branding, inbox_notifications, totp
from server.visibility import ANONYMOUS, Viewer

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncConnection

USER_KEY: web.RequestKey[sa.Row | None] = web.RequestKey("user")


async def current_user(request: web.Request) -> sa.Row | None:
    """The signed-in member (a Row of actor + user columns), or None."""
    if USER_KEY in request:
        return request[USER_KEY]
    data = session.load(request, request.app[keys.SETTINGS].secret)
    user = None
    uid = data.get("uid")
    if isinstance(uid, int):
        user = await accounts.cached_user(request.app[keys.DB], uid)
        if user is not None and (user.user_state != "active" or user.suspended):
            user = None
        elif user is not None and session.started_before(
            request, request.app[keys.SETTINGS].secret, user.sessions_after
        ):
            user = None  # the password was reset since this login
    request[USER_KEY] = user
    return user


async def require_user(request: web.Request) -> sa.Row:
    """The signed-in member, or a redirect to the login page (coming back here afterwards)."""
    user = await current_user(request)
    if user is None:
        if request.method == "GET":
            raise web.HTTPFound(f"/login?next={request.path_qs}")
        raise NotAuthenticated("please log in first")
    return user


async def require_admin(request: web.Request) -> sa.Row:
    """The signed-in administrator; with ``KOERS_REQUIRE_2FA_ADMINS``, one with two-factor on."""
    user = await require_user(request)
    if not user.is_admin:
        raise Forbidden("only administrators can do this")
    if request.app[keys.SETTINGS].require_2fa_admins:
        if not (await totp.status(request.app[keys.DB], user.user_id)).enabled:
            if request.method == "GET":
                flash(request, "Administrators must turn on two-factor sign-in first.")
                raise web.HTTPFound("/settings/security")
            raise Forbidden("administrators must turn on two-factor sign-in first")
    return user


async def require_moderator(request: web.Request) -> sa.Row:
    """The signed-in moderator or administrator; anyone else is refused."""
    user = await require_user(request)
    if not (user.is_admin or user.is_moderator):
        raise Forbidden("only moderators and administrators can do this")
    return user


async def viewer(request: web.Request) -> Viewer:
    """The visibility viewer of a web request: a local member or anonymous."""
    user = await current_user(request)
    if user is None:
        return ANONYMOUS
    return Viewer(actor_id=user.id, local=True, domain=None, is_admin=bool(user.is_admin))


async def form(request: web.Request, *, max_size: int = 1024 * 1024) -> Any:
    """The POSTed form after a CSRF check (multipart allowed). Raises Forbidden on a bad token."""
    if request.content_length is not None and request.content_length > max_size:
        raise TooLarge(
            Message("the form is too large (at most %(value)s MB)", value=max_size // (1024 * 1024))
        )
    data = await request.post()
    token = data.get("_csrf")
    if not session.csrf_ok(
        request, request.app[keys.SETTINGS].secret, token if isinstance(token, str) else None
    ):
        raise Forbidden(
            "the form expired or was sent from elsewhere (CSRF check failed); reload the page and try again"
        )
    return data


def flash(request: web.Request, message: str) -> None:
    session.set_flash(request, request.app[keys.SETTINGS].secret, message)


def redirect(location: str) -> web.HTTPFound:
    return web.HTTPFound(location)


def template_context(request: web.Request) -> dict[str, Any]:
    settings = request.app[keys.SETTINGS]
    data = session.load(request, settings.secret)
    return {
        "request": request,
        "settings": settings,
        "instance_name": settings.instance_name,
        "domain": settings.domain,
        "base": settings.url,
        "csrf_token": data["csrf"],
        "me": request.get(USER_KEY),
        "flash": session.pop_flash(request, settings.secret),
        "now": clock.now(),
        "browser_language": negotiate.from_accept_language(request.headers.get("Accept-Language")),
    }


async def unread_count(request: web.Request) -> int:
    """The signed-in member's unread notifications, as the navigation shows them (0 when none)."""
    user = await current_user(request)
    if user is None:
        return 0
    return int(
        await request.app[keys.DB].read(inbox_notifications.unread_shown, await viewer(request))
    )


async def unread_in(conn: AsyncConnection, who: Viewer) -> dict[str, int]:
    """The navigation's unread count read in a page's own unit of work, as ``render`` would
    read it after (``{"unread": n}`` for a member, to pass to ``render``; nothing for a visitor)."""
    if who.actor_id is None:
        return {}
    return {"unread": int(await inbox_notifications.unread_shown(conn, who))}


async def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """Render a template with the common context (signed-in member, CSRF token, flash message),
    in the reader's language: messages from services (``errors``, ``error``, ``message``, the flash)
    are translated here when the catalogue has them."""
    user = await current_user(request)
    env = request.app[keys.JINJA]
    with i18n.use(request_language(request, user)):
        ctx = template_context(request)
        ctx.update(context)
        if "logo_path" not in ctx:
            ctx["logo_path"] = await branding.logo_path(request.app[keys.CTX])
        if ctx["me"] is not None and "unread" not in ctx and status < 500:
            ctx["unread"] = await unread_count(request)
        _translate_messages(ctx)
        body = env.get_template(template).render(**ctx)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def _translate_messages(ctx: dict[str, Any]) -> None:
    """The service and flash messages of a page in the current language (``N_``-marked or raised
    as ``KoersError("…")`` literals and ``Message``s are in the catalogue; others stay as written)."""
    for name in ("flash", "error", "message"):
        if isinstance(ctx.get(name), str):
            ctx[name] = translate(ctx[name])
    errors = ctx.get("errors")
    if isinstance(errors, dict):
        ctx["errors"] = {
            k: as_sentence(translate(v)) if isinstance(v, str) else v for k, v in errors.items()
        }


_FIELD_PREFIX = re.compile(r"^[^\s:.!?]+(?: [^\s:.!?]+){0,2}: (?=\S)")


def as_sentence(message: str) -> str:
    """A service's message as a form shows it beside its field and in the summary (which names
    the field itself): without the field's name in front, in any language ("capacity: a number
    from 1" → "a number from 1."); the stylesheet capitalises the first letter."""
    text = _FIELD_PREFIX.sub("", message.strip(), count=1)
    if not text:
        return message
    return text if text.endswith((".", "?", "!")) else text + "."


ERROR_TITLES = {
    400: i18n.N_("Bad request"),
    401: i18n.N_("Please log in"),
    403: i18n.N_("Not allowed"),
    404: i18n.N_("Page not found"),
    405: i18n.N_("Not allowed"),
    409: i18n.N_("Already there"),
    410: i18n.N_("Gone"),
    413: i18n.N_("Too large"),
    415: i18n.N_("Unsupported type"),
    422: i18n.N_("Please check your input"),
    429: i18n.N_("Slow down"),
    500: i18n.N_("Something went wrong"),
}


async def render_error(
    request: web.Request, status: int, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    with i18n.use(request_language(request, await current_user(request))):
        title = i18n.gettext(ERROR_TITLES.get(status, i18n.N_("Error")))
    response = await render(
        request,
        "error.html",
        status=status,
        title=title,
        message=message,
        error_status=status,
    )
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response
