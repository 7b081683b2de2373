"""``/media/{path}``: stored images, served only to those who may see them.

Avatars and headers are public. An attachment is served when the viewer may see its post (the
visibility module decides), or, while it is not attached yet, to its owner only. Anything else —
unknown files, paths trying to leave the media folder — is a plain 404 that reveals nothing.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError, NotFound
from server.http.pages import viewer
from server.keys import CTX
from server.services import media

routes = web.RouteTableDef()


async def prepared_upload(data, name: str, kind: str) -> media.ProcessedImage | None:
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
        allowed = await media.may_see_file(ctx, who, rel)
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
