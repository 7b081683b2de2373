"""Settings pages: the profile (text, fields, competencies, images, defaults) and invite links.

The profile form is checked completely before anything is written: a bad avatar leaves the name,
bio and everything else as they were.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import Row

from server import urls
from server.errors import FieldErrors, KoersError, ValidationError
from server.http.pages import flash, form, redirect, render, require_user
from server.http.params import as_id
from server.i18n import N_
from server.i18n.messages import Message
from server.keys import CTX
from server.services import accounts, media
from server.web.cards import audience_choices
from server.web.forms import field_errors
from server.web.media import prepared_upload

routes = web.RouteTableDef()
INVITE_VALUES: web.RequestKey[dict[str, str]] = web.RequestKey("invite_values")  # as typed

# What a new post's audience may default to (a single community needs choosing per post).
DEFAULT_AUDIENCES = audience_choices(
    ("public", "unlisted", "followers", "members", "partners", "direct")
)
LEVEL_HELP = N_(
    "One per line, optionally with a level: “facilitation: expert”. Levels: learning, practised, expert."
)
PROFILE_LABELS = {
    "display_name": N_("Display name"),
    "bio": N_("About you"),
    "bio_format": N_("Format of “About you”"),
    "fields": N_("Profile fields"),
    "competencies": N_("Competencies"),
    "default_audience": N_("Who sees your new posts by default"),
    "avatar": N_("Avatar"),
    "header": N_("Header image"),
    "form": N_("Your profile"),
}
INVITE_LABELS = {
    "max_uses": N_("How many people may use it"),
    "days": N_("Valid for how many days"),
}
INVITE_LIMIT_ERRORS = {
    "max_uses": N_("max_uses: a whole number from 1 to %(num)s, or empty"),
    "days": N_("days: a whole number from 1 to %(num)s, or empty"),
}
PROFILE_FORM_MAX = 2 * media.MAX_IMAGE_BYTES + 256 * 1024


def competencies_text(rows: list[Row]) -> str:
    return "\n".join(f"{r.name}: {r.level}" if r.level else r.name for r in rows)


def parse_competency_lines(value: str) -> list[tuple[str, str | None]]:
    """``name`` or ``name: level`` per line (or comma-separated) into (name, level) pairs."""
    entries: list[tuple[str, str | None]] = []
    for line in value.replace(",", "\n").splitlines():
        name, sep, level = line.rpartition(":")
        entries.append((name, level) if sep else (level, None))
    return accounts.parse_competencies(entries)


async def _profile_values(request: web.Request, user) -> dict:
    async with request.app[CTX].db.read() as conn:
        comps = await accounts.competencies_of(conn, user.id)
    fields = [(f.get("name", ""), f.get("source", "")) for f in (user.fields or [])]
    fields += [("", "")] * (accounts.MAX_FIELDS - len(fields))
    return {
        "display_name": user.display_name,
        "bio": user.bio_source,
        "bio_format": user.bio_format,
        "fields": fields[: accounts.MAX_FIELDS],
        "competencies": competencies_text(comps),
        "default_audience": user.default_audience,
        "locked": bool(user.manually_approves_followers),
        "discoverable": bool(user.discoverable),
    }


async def _render_profile(
    request: web.Request, values: dict, errors: dict, status: int = 200
) -> web.Response:
    return await render(
        request,
        "settings_profile.html",
        values=values,
        errors=errors,
        audiences=DEFAULT_AUDIENCES,
        level_help=LEVEL_HELP,
        field_labels=PROFILE_LABELS,
        status=status,
    )


@routes.get("/settings")
async def settings_index(request: web.Request) -> web.Response:
    await require_user(request)
    raise redirect("/settings/profile")


@routes.get("/settings/profile")
async def profile_form(request: web.Request) -> web.Response:
    user = await require_user(request)
    return await _render_profile(request, await _profile_values(request, user), {})


@routes.post("/settings/profile")
async def profile_submit(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    data = await form(request, max_size=PROFILE_FORM_MAX)
    fields = [
        (str(data.get(f"field_name_{i}", "")), str(data.get(f"field_value_{i}", "")))
        for i in range(accounts.MAX_FIELDS)
    ]
    values = {
        "display_name": str(data.get("display_name", "")),
        "bio": str(data.get("bio", "")),
        "bio_format": str(data.get("bio_format", "markdown")),
        "fields": fields,
        "competencies": str(data.get("competencies", "")),
        "default_audience": str(data.get("default_audience", "public")),
        "locked": data.get("locked") == "on",
        "discoverable": data.get("discoverable") == "on",
    }
    images: dict[str, media.ProcessedImage] = {}
    found = FieldErrors()  # every field is checked before a file or a row is written
    status = 422  # or a file's own status (413 too large, 415 not an image)
    competencies: list[tuple[str, str | None]] = []
    with found.check("competencies"):
        competencies = parse_competency_lines(values["competencies"])
    for kind in ("avatar", "header"):
        try:
            image = await prepared_upload(data, kind, kind)
        except KoersError as exc:
            found.add(kind, exc.message)
            status = exc.status if status == 422 else status
            continue
        if image is not None:
            images[kind] = image
    with found.check():
        accounts.check_profile(
            display_name=values["display_name"],
            bio=values["bio"],
            bio_format=values["bio_format"],
            fields=fields,
            default_audience=values["default_audience"],
        )
    if found:
        return await _render_profile(request, values, found.errors, status)
    stored = await asyncio.to_thread(media.store_images, ctx.settings, images)
    try:
        await accounts.update_profile(
            ctx.db,
            user.user_id,
            display_name=values["display_name"],
            bio=values["bio"],
            bio_format=values["bio_format"],
            fields=fields,
            default_audience=values["default_audience"],
            locked=values["locked"],
            discoverable=values["discoverable"],
            avatar_path=stored.get("avatar"),
            header_path=stored.get("header"),
            tag_url=lambda tag: urls.tag(ctx.base, tag),
            events=ctx.events,
        )
    except KoersError as exc:
        media.delete_files(ctx.settings, *stored.values())
        return await _render_profile(
            request, values, field_errors(exc) or {"form": exc.message}, exc.status
        )
    except BaseException:  # e.g. a full disk: no files without the row that names them
        media.delete_files(ctx.settings, *stored.values())
        raise
    await accounts.set_competencies(ctx.db, user.id, competencies)
    media.delete_files(
        ctx.settings,
        user.avatar_path if "avatar" in stored else None,
        user.header_path if "header" in stored else None,
    )
    flash(request, "Your profile is saved.")
    raise redirect("/settings/profile")


async def _my_invites(request: web.Request, user_id: int) -> list[Row]:
    return await accounts.invites_created_by(request.app[CTX].db, user_id)


@routes.get("/settings/invites")
async def invites_page(request: web.Request) -> web.Response:
    user = await require_user(request)
    return await render(
        request,
        "settings_invites.html",
        invites=await _my_invites(request, user.user_id),
        errors={},
    )


def _parse_invite_limits(data) -> tuple[int | None, int | None]:
    """(max uses, days valid) from an invite form; empty means unlimited. Both are checked."""
    found = FieldErrors()
    out: list[int | None] = []
    for name, upper in (("max_uses", 1000), ("days", 365)):
        raw = str(data.get(name, "")).strip()
        if not raw:
            out.append(None)
            continue
        if not 1 <= (as_id(raw) or 0) <= upper:
            found.add(name, Message(INVITE_LIMIT_ERRORS[name], num=upper))
            out.append(None)
            continue
        out.append(int(raw))
    found.raise_any()
    return out[0], out[1]


async def invite_from_form(request: web.Request, user) -> str:
    """Create an invite from a submitted invite form (CSRF checked); flashes and returns its URL."""
    ctx = request.app[CTX]
    data = await form(request)
    request[INVITE_VALUES] = {k: str(data.get(k, "")) for k in ("max_uses", "days")}
    max_uses, days = _parse_invite_limits(data)
    code = await accounts.create_invite(ctx.db, user.user_id, max_uses=max_uses, days=days)
    url = f"{ctx.base}/signup?invite={code}"
    flash(request, Message("New invite link: %(url)s", url=url))
    return url


@routes.post("/settings/invites")
async def invites_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    try:
        await invite_from_form(request, user)
    except ValidationError as exc:
        invites = await _my_invites(request, user.user_id)
        return await render(
            request,
            "settings_invites.html",
            invites=invites,
            errors=field_errors(exc) or {},
            values=request.get(INVITE_VALUES, {}),
            field_labels=INVITE_LABELS,
            status=422,
        )
    raise redirect(request.path)
