"""``/media/{path}``: stored images, served only to those who may see them.

Avatars and headers are public. An attachment is served when the viewer may see its post (the
visibility module decides), or, while it is not attached yet, to its owner only. Anything else —
unknown files, paths trying to leave the media folder — is a plain 404 that reveals nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from server.errors import KoersError, NotFound
from server.http.pages import viewer
from server.keys import CTX
from server.services import media
from server.storage import schema as t
from server.visibility import can_see_post

routes = web.RouteTableDef()


async def prepared_upload(data, name: str, kind: str) -> media.ProcessedImage | None:  # type: ignore[no-untyped-def]
    """The checked image of form file field ``name`` (None when no file was chosen).

    Its errors name the field, so the form can show them beside the right input.
    """
    value = data.get(name)
    if not isinstance(value, web.FileField):
        return None
    content = value.file.read()
    if not content:
        return None
    try:
        return await media.prepare(content, kind)
    except KoersError as exc:
        exc.field = name
        raise


_NOT_FOUND = "no such file"


@routes.get("/media/{path:.+}")
async def serve_media(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    rel = request.match_info["path"]
    root = ctx.settings.media_dir.resolve()
    if "\0" in rel or len(rel) > 1000 or ".." in rel.split("/"):  # the OS would refuse these names
        raise NotFound(_NOT_FOUND)
    target = (root / rel).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFound(_NOT_FOUND)
    folder = rel.split("/", 1)[0]
    public = folder in media.PUBLIC_FOLDERS
    shared = public
    if not public:
        who = await viewer(request)
        async with ctx.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(t.media.c.owner_id, t.media.c.post_id).where(
                        sa.or_(t.media.c.path == rel, t.media.c.thumb_path == rel)
                    )
                )
            ).first()
            if row is None:
                raise NotFound(_NOT_FOUND)
            if row.post_id is None:
                allowed = who.actor_id is not None and who.actor_id == row.owner_id
            else:
                allowed = await can_see_post(conn, who, row.post_id)
        if not allowed:
            raise NotFound(_NOT_FOUND)
        shared = who.anonymous  # an anonymous visitor may see it, so any cache may keep it a while
    ext = target.suffix.lstrip(".").lower()
    headers = {
        "Content-Type": media.MIME_TYPES.get(ext, "application/octet-stream"),
        # File names are random and never reused, so public files may be cached for long; others
        # only by the browser that was allowed to fetch them.
        "Cache-Control": (
            "public, max-age=604800, immutable"
            if public
            else "public, max-age=3600"
            if shared
            else "private, max-age=3600"
        ),
        "Content-Disposition": "inline",
    }
    return web.FileResponse(target, headers=headers)
