"""``/api/v1/media`` and ``/api/v2/media``: upload image attachments, describe them, set the focus."""

from __future__ import annotations

from aiohttp import web

from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, path_id
from server.api.entities import to_mastodon_media
from server.errors import NotFound, TooLarge, ValidationError
from server.services import media
from server.services.views import MediaView, media_url

routes = web.RouteTableDef()


async def _media_json(request: web.Request, actor_id: int, media_id: int) -> dict:
    c = ctx(request)
    async with c.db.read() as conn:
        r = await media.own_attachment(conn, actor_id, media_id)
    if r is None:
        raise NotFound("Record not found")
    url = media_url(c.base, r.path, r.remote_url)
    return to_mastodon_media(
        MediaView(
            id=r.id,
            kind=r.kind,
            url=url,
            preview_url=media_url(c.base, r.thumb_path, None) or url,
            mime_type=r.mime_type,
            description=r.description or "",
            width=r.width,
            height=r.height,
            blurhash=r.blurhash,
            focus_x=r.focus_x or 0.0,
            focus_y=r.focus_y or 0.0,
            remote_url=r.remote_url,
        )
    )


@routes.post("/api/v1/media")
@routes.post("/api/v2/media")
async def upload(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:media")
    if (
        request.content_length is not None
        and request.content_length > media.MAX_IMAGE_BYTES + 64 * 1024
    ):
        raise TooLarge(
            f"the file is too large: at most {media.MAX_IMAGE_BYTES // (1024 * 1024)} MB"
        )
    p = await params.read(request, files=True)
    upload = p.files.get("file")
    if upload is None:
        raise ValidationError("file: required (multipart/form-data)", field="file")
    data = upload.file.read(media.MAX_IMAGE_BYTES + 1)
    focus = media.parse_focus(p.str("focus") or "")
    media_id = await media.create_attachment(
        ctx(request),
        auth.actor_id,
        data,
        description=p.str("description") or "",
        focus=focus,
    )
    return json(await _media_json(request, auth.actor_id, media_id))


@routes.get(r"/api/v1/media/{id:\d+}")
async def get_media(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:media")
    return json(await _media_json(request, auth.actor_id, path_id(request)))


@routes.put(r"/api/v1/media/{id:\d+}")
async def update_media(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:media")
    p = await params.read(request, files=True)
    focus = media.parse_focus(p.str("focus") or "") if p.str("focus") is not None else None
    await media.update_attachment(
        ctx(request),
        auth.actor_id,
        path_id(request),
        description=p.str("description"),
        focus=focus,
    )
    return json(await _media_json(request, auth.actor_id, path_id(request)))
