"""Writing a post on the web: the compose form, its attachments, and double-submit protection.

Every compose form carries a random token. The first submit stores ``(user, token) -> post`` in
``idempotency_keys``; a second submit of the same form (a double click, a reload) is sent to the
first post instead of publishing another.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.activitypub.core.handles import actor_ids_for_handles, split_handles
from server.context import Context
from server.errors import FieldErrors, KoersError, ValidationError
from server.http.pages import form, redirect, render, require_user, viewer
from server.http.params import as_id
from server.i18n.current import Lazy
from server.i18n.messages import Message
from server.keys import CTX
from server.services import community_lists, idempotency, media, posts
from server.services.views import PostView, load_posts
from server.visibility import Audience, can_see_post
from server.web import forms
from server.web.cards import audience_choices, safe_back
from server.web.media import prepared_upload

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

AUDIENCE_CHOICES = audience_choices(
    ("public", "unlisted", "followers", "community", "members", "partners", "direct")
)
COMPOSE_FORM_MAX = posts.MAX_MEDIA * media.MAX_IMAGE_BYTES + 256 * 1024
POLL_DURATIONS = [
    ("300", "5 minutes"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("259200", "3 days"),
    ("604800", "1 week"),
]
FORM_FIELDS = (
    "status",
    "audience",
    "format",
    "spoiler_text",
    "community_id",
    "in_reply_to",
    "kind",
    "contributors",
    "poll_expires_in",
    "back",
    "poll_multiple",
    *(f"poll_{i}" for i in range(posts.MAX_POLL_OPTIONS)),
    *(f"description_{i}" for i in range(posts.MAX_MEDIA)),
)


@dataclass(frozen=True, slots=True)
class ComposeOptions:
    """What the compose component (``templates/_compose.html``) offers a member."""

    token: str
    default_audience: str
    community_choices: list[tuple[str, str]]
    audiences: list[tuple[str, Lazy]] = field(default_factory=lambda: AUDIENCE_CHOICES)
    max_chars: int = posts.MAX_CHARS
    max_media: int = posts.MAX_MEDIA
    max_poll_options: int = posts.MAX_POLL_OPTIONS
    max_poll_chars: int = posts.MAX_POLL_OPTION_CHARS
    poll_durations: list[tuple[str, str]] = field(default_factory=lambda: POLL_DURATIONS)
    media_fields: tuple[str, ...] = tuple(f"media_{i}" for i in range(posts.MAX_MEDIA))


async def compose_options(ctx: Context, user: Any) -> ComposeOptions:
    """The compose component's choices for this member: the communities they joined, their
    default audience and a fresh form token."""
    return options_for(user, await community_lists.joined_communities(ctx.db, user.id))


def options_for(user: Any, communities: list[Any]) -> ComposeOptions:
    """``compose_options`` from the communities joined (``community_lists.joined``), for a page
    that reads them in its own unit of work."""
    choices = [("", "— none —")] + [
        (str(c.id), c.name if c.domain is None else f"{c.name} ({c.domain})") for c in communities
    ]
    return ComposeOptions(
        token=secrets.token_urlsafe(18),
        default_audience=user.default_audience,
        community_choices=choices,
    )


async def render_compose(
    request: web.Request,
    user: Any,
    values: dict,
    errors: dict | None = None,
    status: int = 200,
    reply: PostView | None = None,
) -> web.Response:
    ctx = request.app[CTX]
    values.setdefault("audience", user.default_audience)
    options = await compose_options(ctx, user)
    if reply is None and as_id(values.get("in_reply_to")) is not None:
        reply = await _replied(request, int(values["in_reply_to"]))
    return await render(
        request,
        "compose.html",
        values=values,
        errors=errors or {},
        compose=options,
        replied=reply,
        status=status,
    )


async def _replied(request: web.Request, post_id: int) -> PostView | None:
    """The post a reply answers, as the viewer may see it (None when they may not)."""
    ctx = request.app[CTX]
    who = await viewer(request)

    async def load(conn: AsyncConnection) -> PostView | None:
        if not await can_see_post(conn, who, post_id):
            return None
        found = await load_posts(
            conn, who, [post_id], base=ctx.base, local_domain=ctx.settings.domain
        )
        return found[0] if found else None

    return await ctx.db.read(load)


@routes.get("/compose")
async def compose_page(request: web.Request) -> web.Response:
    user = await require_user(request)
    values: dict = {}
    reply_to = request.query.get("in_reply_to", "")
    if as_id(reply_to) is not None:
        values["in_reply_to"] = reply_to
    community = request.query.get("community", "")
    if as_id(community) is not None:
        values["community_id"] = community
        values["audience"] = "community"
    return await render_compose(request, user, values)


async def _remember(ctx: Context, user, token: str, post_id: int) -> int:
    """Store the form token; if a concurrent submit stored it first, keep that post and drop ours."""
    first = await idempotency.remember_form_token(ctx, user.user_id, token, post_id)
    if first != post_id:
        log.info(
            "double submit of compose form by user %s: dropping post %s, keeping %s",
            user.user_id,
            post_id,
            first,
        )
        await posts.delete_post(ctx, user.id, post_id)
    return first


def draft_from_form(data: Any, media_ids: tuple[int, ...]) -> posts.Draft:
    """The Draft a compose form asks for (a ValidationError names every field that is wrong)."""
    found = FieldErrors()
    audience = Audience.PUBLIC
    try:
        audience = Audience.parse(str(data.get("audience", "public")))
    except ValueError as exc:
        found.add("audience", str(exc))
    fmt = str(data.get("format", "markdown"))
    community = str(data.get("community_id", "")).strip()
    reply_to = str(data.get("in_reply_to", "")).strip()
    for name, raw in (("community_id", community), ("in_reply_to", reply_to)):
        if raw and as_id(raw) is None:
            found.add(name, Message("%(name)s: please choose one of the options", name=name))
    poll = None
    with found.check("poll"):
        poll = _poll(data)
    found.raise_any()
    return posts.Draft(
        source=str(data.get("status", "")),
        audience=audience,
        fmt=fmt,
        spoiler_text=str(data.get("spoiler_text", "")),
        sensitive=data.get("sensitive") == "on",
        in_reply_to_id=int(reply_to) if reply_to else None,
        community_id=int(community)
        if community and (audience is Audience.COMMUNITY or data.get("kind") == "result")
        else None,
        kind="result" if data.get("kind") == "result" else "note",
        media_ids=media_ids,
        poll=poll,
    )


def _poll(data: Any) -> posts.PollSpec | None:
    """The poll of a compose form: its filled-in choices (none: no poll) and how long it is open."""
    choices = [str(data.get(f"poll_{i}", "")).strip() for i in range(posts.MAX_POLL_OPTIONS)]
    choices = [c for c in choices if c]
    if not choices:
        return None
    if len(choices) < 2:
        raise ValidationError("poll: give at least two choices", field="poll")
    raw = str(data.get("poll_expires_in", "86400"))
    if raw not in {value for value, _ in POLL_DURATIONS}:
        raise ValidationError("poll: please choose how long it is open", field="poll")
    return posts.PollSpec(
        options=tuple(choices), expires_in=int(raw), multiple=data.get("poll_multiple") == "on"
    )


async def _prepared_uploads(data) -> list[tuple[media.ProcessedImage, str]]:
    out = []
    for i in range(posts.MAX_MEDIA):
        description = str(data.get(f"description_{i}", ""))
        if len(description) > media.MAX_DESCRIPTION:
            raise ValidationError(
                Message(
                    "image description: at most %(max_description)s characters",
                    max_description=media.MAX_DESCRIPTION,
                ),
                field=f"media_{i}",
            )
        image = await prepared_upload(data, f"media_{i}", "attachment")
        if image is not None:
            out.append((image, description))
    return out


@routes.post("/compose")
async def compose_submit(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    data = await form(request, max_size=COMPOSE_FORM_MAX)
    token = str(data.get("token", ""))[:255]
    values = {k: str(data.get(k, "")) for k in FORM_FIELDS}
    values["token"] = token or secrets.token_urlsafe(18)
    if token:
        earlier = await idempotency.post_for_form_token(ctx, user.user_id, token)
        if earlier is not None:
            raise redirect(f"/@{user.username}/{earlier}")
    media_ids: list[int] = []
    found = FieldErrors()
    status = 422
    uploads: list[tuple[media.ProcessedImage, str]] = []
    try:
        uploads = await _prepared_uploads(data)
    except KoersError as exc:  # a picture too large or of another type: 413, 415
        found.add(exc.field or "media_0", exc.message)
        status = exc.status
    with found.check():
        draft_from_form(data, ())  # check the form before storing any file
    if found:
        return await render_compose(request, user, values, forms.humane(found), status)
    try:
        # credited people (remote ones through federation) are looked up before anything is written
        credited = await actor_ids_for_handles(request.app, split_handles(values["contributors"]))
        for image, description in uploads:
            media_ids.append(
                await media.insert_attachment(ctx, user.id, image, description=description)
            )
        draft = replace(draft_from_form(data, tuple(media_ids)), contributor_ids=credited)
        post_id = await posts.create_post(ctx, user.id, draft)
    except KoersError as exc:
        await media.discard_attachments(ctx, user.id, media_ids)
        errors = forms.field_errors(exc) or {"status": exc.message}
        return await render_compose(request, user, values, errors, exc.status)
    if token:
        post_id = await _remember(ctx, user, token, post_id)
    own_page = f"/@{user.username}/{post_id}"
    back = safe_back(values["back"], "")
    raise redirect(f"{back.split('#')[0]}#p{post_id}" if back else own_page)
