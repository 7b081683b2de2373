"""Writing a post on the web: the compose form, its attachments, and double-submit protection.

Every compose form carries a random token. The first submit stores ``(user, token) -> post`` in
``idempotency_keys``; a second submit of the same form (a double click, a reload) is sent to the
first post instead of publishing another.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace

from aiohttp import web

from server.activitypub.core.handles import actor_ids_for_handles, split_handles
from server.context import Context
from server.errors import KoersError, ValidationError
from server.http.pages import form, redirect, render, require_user
from server.http.params import as_id
from server.keys import CTX
from server.services import community_lists, idempotency, media, posts
from server.visibility import Audience
from server.web.cards import audience_choices
from server.web.media import prepared_upload

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

AUDIENCE_CHOICES = audience_choices(
    ("public", "unlisted", "followers", "community", "members", "partners", "direct")
)
COMPOSE_FORM_MAX = posts.MAX_MEDIA * media.MAX_IMAGE_BYTES + 256 * 1024


async def render_compose(
    request: web.Request,
    user,
    values: dict,
    errors: dict | None = None,
    status: int = 200,
) -> web.Response:
    ctx = request.app[CTX]
    values.setdefault("audience", user.default_audience)
    values.setdefault("token", secrets.token_urlsafe(18))
    communities = await community_lists.joined_communities(ctx.db, user.id)
    choices = [("", "— none —")] + [
        (str(c.id), c.name if c.domain is None else f"{c.name} ({c.domain})") for c in communities
    ]
    return await render(
        request,
        "compose.html",
        values=values,
        errors=errors or {},
        audiences=AUDIENCE_CHOICES,
        communities=communities,
        community_choices=choices,
        max_media=posts.MAX_MEDIA,
        status=status,
    )


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


def draft_from_form(data, media_ids: tuple[int, ...]) -> posts.Draft:
    """The Draft a compose form asks for (raises ValidationError with the field to point at)."""
    try:
        audience = Audience.parse(str(data.get("audience", "public")))
    except ValueError as exc:
        raise ValidationError(str(exc), field="audience") from None
    fmt = str(data.get("format", "markdown"))
    community = str(data.get("community_id", "")).strip()
    reply_to = str(data.get("in_reply_to", "")).strip()
    for name, raw in (("community_id", community), ("in_reply_to", reply_to)):
        if raw and as_id(raw) is None:
            raise ValidationError("unknown choice", field=name)
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
    )


async def _prepared_uploads(data) -> list[tuple[media.ProcessedImage, str]]:
    out = []
    for i in range(posts.MAX_MEDIA):
        description = str(data.get(f"description_{i}", ""))
        if len(description) > media.MAX_DESCRIPTION:
            raise ValidationError(
                f"image description: at most {media.MAX_DESCRIPTION} characters", field=f"media_{i}"
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
    values = {
        k: str(data.get(k, ""))
        for k in (
            "status",
            "audience",
            "format",
            "spoiler_text",
            "community_id",
            "in_reply_to",
            "kind",
            "contributors",
        )
    }
    values["token"] = token or secrets.token_urlsafe(18)
    if token:
        earlier = await idempotency.post_for_form_token(ctx, user.user_id, token)
        if earlier is not None:
            raise redirect(f"/@{user.username}/{earlier}")
    media_ids: list[int] = []
    try:
        uploads = await _prepared_uploads(data)
        draft_from_form(data, ())  # check the form before storing any file
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
        return await render_compose(
            request, user, values, {exc.field or "status": exc.message}, exc.status
        )
    if token:
        post_id = await _remember(ctx, user, token, post_id)
    raise redirect(f"/@{user.username}/{post_id}")
