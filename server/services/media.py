"""Uploaded images: checked by decoding, turned upright, stripped of metadata, resized, stored.

Public API (used by the web pages and the client API):

- ``save_profile_image(ctx, data, kind)`` -> relative path of a new avatar (400x400) or header
  (1500x500); the caller stores it on the actor and calls ``delete_files`` for the old one.
- ``create_attachment(ctx, owner_id, data, description=..., focus=...)`` -> id of a new ``media``
  row (``post_id`` NULL until a post uses it), with a thumbnail and a blurhash.
- ``update_attachment(ctx, owner_id, media_id, description=..., focus=...)`` changes the text
  description or focal point of one's own attachment.
- ``process_image`` / ``store_image`` are the two halves (pure processing, then files), so a caller
  can check every upload of a form before anything is written.

Only JPEG, PNG, GIF and WebP are accepted (``UnsupportedMedia``, 415); bigger than
``MAX_IMAGE_BYTES`` or ``MAX_PIXELS`` is ``TooLarge`` (413). Every image is re-encoded from its
pixels, so no EXIF (location!), XMP, ICC or comment survives. Animated GIFs keep their first frame
only and are stored as PNG. Pillow work runs in a thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.config import Settings
from server.context import Context
from server.errors import NotFound, TooLarge, UnsupportedMedia, ValidationError
from server.i18n.messages import Message
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Viewer, can_see_post

if TYPE_CHECKING:  # Pillow and blurhash are imported on the first upload, not at start-up
    from PIL import Image

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 8 * 1024 * 1024
# Checked on the header before decoding: a small file can unpack into gigabytes (decompression bomb).
MAX_PIXELS = 40_000_000
MAX_DESCRIPTION = 1500
ATTACHMENT_MAX_SIDE = 1920
THUMB_MAX_SIDE = 400
# kind -> (folder, exact size to crop to, or None for "fit within ATTACHMENT_MAX_SIDE")
KINDS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "avatar": ("avatars", (400, 400)),
    "header": ("headers", (1500, 500)),
    "attachment": ("attachments", None),
}
PUBLIC_FOLDERS = ("avatars", "headers")
# Pillow format -> (stored format, MIME type, file extension)
_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "GIF": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
}
MIME_TYPES = {ext: mime for _, mime, ext in _FORMATS.values()}


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """A cleaned image ready to store: re-encoded bytes, optional thumbnail, and what we know of it."""

    data: bytes
    thumb: bytes | None
    mime_type: str
    extension: str
    width: int
    height: int
    blurhash: str | None


def _open_checked(data: bytes) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(
            Message(
                "the image is too large: at most %(value)s MB",
                value=MAX_IMAGE_BYTES // (1024 * 1024),
            )
        )
    if not data:
        raise UnsupportedMedia("the file is empty; upload a JPEG, PNG, GIF or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in _FORMATS:
                raise UnsupportedMedia(
                    Message(
                        "%(value)s images are not supported; upload a JPEG, PNG, GIF or WebP image",
                        value=image.format or "this",
                    )
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise TooLarge(
                    Message(
                        "the image has too many pixels (%(width)sx%(height)s); at most %(num)s pixels",
                        width=width,
                        height=height,
                        num=MAX_PIXELS,
                    )
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("the image has too many pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedMedia(
            "the file is not a readable image; upload a JPEG, PNG, GIF or WebP image"
        ) from None
    return image


def _clean_pixels(image: Image.Image, out_format: str) -> Image.Image:
    """A new image holding only the pixels (no info dict, no EXIF), in a mode the format can save."""
    from PIL import Image

    if image.mode == "P" or image.mode == "PA":
        image = image.convert("RGBA")
    if out_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encode(image: Image.Image, out_format: str) -> bytes:
    buf = io.BytesIO()
    options: dict[str, object] = {"optimize": True}
    if out_format in ("JPEG", "WEBP"):
        options["quality"] = 85
    image.save(buf, out_format, **options)
    return buf.getvalue()


def process_image(data: bytes, kind: str) -> ProcessedImage:
    """Check, turn upright, resize and re-encode an upload (CPU-bound; call it in a thread).

    Raises ``UnsupportedMedia`` or ``TooLarge`` with a message meant for the uploader.
    """
    import blurhash
    from PIL import Image, ImageOps

    if kind not in KINDS:
        raise ValueError(f"unknown image kind {kind!r}")
    image = _open_checked(data)
    assert image.format is not None
    out_format, mime, ext = _FORMATS[image.format]
    image = ImageOps.exif_transpose(image) or image
    _, box = KINDS[kind]
    if box is not None:
        image = ImageOps.fit(image, box, method=Image.Resampling.LANCZOS)
    else:
        image.thumbnail((ATTACHMENT_MAX_SIDE, ATTACHMENT_MAX_SIDE), Image.Resampling.LANCZOS)
    clean = _clean_pixels(image, out_format)
    thumb_bytes = None
    hash_value = None
    if kind == "attachment":
        thumb = clean.copy()
        thumb.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE), Image.Resampling.LANCZOS)
        thumb_bytes = _encode(thumb, out_format)
        tiny = clean.copy()
        tiny.thumbnail((64, 64))
        with warnings.catch_warnings():
            # blurhash-python reads pixels with Image.getdata, deprecated in Pillow 13 (gone in 14,
            # which pyproject excludes); the warning is theirs, not ours.
            warnings.simplefilter("ignore", DeprecationWarning)
            hash_value = blurhash.encode(tiny.convert("RGB"), 4, 3)
    return ProcessedImage(
        _encode(clean, out_format), thumb_bytes, mime, ext, clean.width, clean.height, hash_value
    )


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:  # a full disk leaves no partial file behind
        tmp.unlink(missing_ok=True)
        raise


def store_image(settings: Settings, image: ProcessedImage, kind: str) -> tuple[str, str | None]:
    """Write a processed image (and its thumbnail) under the media dir with a random name.

    Returns the relative paths ``(path, thumb_path)``, the form ``/media/{path}`` serves.
    """
    folder, _ = KINDS[kind]
    name = secrets.token_urlsafe(18)
    path = f"{folder}/{name}.{image.extension}"
    _write_atomic(settings.media_dir / path, image.data)
    thumb_path = None
    if image.thumb is not None:
        thumb_path = f"{folder}/{name}-thumb.{image.extension}"
        try:
            _write_atomic(settings.media_dir / thumb_path, image.thumb)
        except BaseException:  # the image without its thumbnail is no use: both or neither
            delete_files(settings, path)
            raise
    return path, thumb_path


def store_images(settings: Settings, images: dict[str, ProcessedImage]) -> dict[str, str]:
    """``store_image`` for several kinds at once (avatar and header): all are written or none."""
    stored: dict[str, str] = {}
    try:
        for kind, image in images.items():
            stored[kind] = store_image(settings, image, kind)[0]
    except BaseException:
        delete_files(settings, *stored.values())
        raise
    return stored


def delete_files(settings: Settings, *paths: str | None) -> None:
    """Remove stored media files (missing ones are fine)."""
    root = settings.media_dir.resolve()
    for rel in paths:
        if not rel:
            continue
        target = (root / rel).resolve()
        if target.is_relative_to(root):
            target.unlink(missing_ok=True)


async def prepare(data: bytes, kind: str) -> ProcessedImage:
    """``process_image`` in a worker thread."""
    return await asyncio.to_thread(process_image, data, kind)


async def save_profile_image(ctx: Context, data: bytes, kind: str) -> str:
    """Process and store an avatar or header; returns its relative path (nothing is written on error)."""
    if kind not in ("avatar", "header"):
        raise ValueError("kind must be avatar or header")
    image = await prepare(data, kind)
    path, _ = await asyncio.to_thread(store_image, ctx.settings, image, kind)
    return path


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            Message("description: at most %(num)s characters", num=MAX_DESCRIPTION),
            field="description",
        )
    return description.strip()


def _check_focus(focus: tuple[float, float]) -> tuple[float, float]:
    x, y = focus
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ValidationError("focus: two numbers between -1.0 and 1.0", field="focus")
    return float(x), float(y)


async def create_attachment(
    ctx: Context,
    owner_id: int,
    data: bytes,
    *,
    description: str = "",
    focus: tuple[float, float] | None = None,
) -> int:
    """Store an image attachment for a later post; returns the ``media`` id."""
    description = _check_description(description)
    focus = _check_focus(focus) if focus is not None else None
    image = await prepare(data, "attachment")
    return await insert_attachment(ctx, owner_id, image, description=description, focus=focus)


async def insert_attachment(
    ctx: Context,
    owner_id: int,
    image: ProcessedImage,
    *,
    description: str = "",
    focus: tuple[float, float] | None = None,
) -> int:
    """Store an already ``prepare``d attachment image and its ``media`` row; returns the id."""
    description = _check_description(description)
    fx, fy = _check_focus(focus) if focus is not None else (0.0, 0.0)
    path, thumb_path = await asyncio.to_thread(store_image, ctx.settings, image, "attachment")
    try:
        async with ctx.db.write() as conn:
            res = await conn.execute(
                t.media.insert().values(
                    owner_id=owner_id,
                    post_id=None,
                    kind="image",
                    path=path,
                    thumb_path=thumb_path,
                    mime_type=image.mime_type,
                    width=image.width,
                    height=image.height,
                    description=description,
                    blurhash=image.blurhash,
                    focus_x=fx,
                    focus_y=fy,
                    created_at=clock.now(),
                )
            )
            media_id = inserted_id(res)
    except BaseException:
        delete_files(ctx.settings, path, thumb_path)
        raise
    log.info(
        "attachment %s stored for actor %s (%sx%s)", media_id, owner_id, image.width, image.height
    )
    return media_id


async def discard_attachments(ctx: Context, owner_id: int, media_ids: list[int]) -> None:
    """Delete one's own attachments that no post uses (e.g. when publishing failed), files too."""
    if not media_ids:
        return
    async with ctx.db.write() as conn:
        cond = sa.and_(
            t.media.c.id.in_(media_ids), t.media.c.owner_id == owner_id, t.media.c.post_id.is_(None)
        )
        rows = list(await conn.execute(sa.select(t.media.c.path, t.media.c.thumb_path).where(cond)))
        await conn.execute(t.media.delete().where(cond))
    for row in rows:
        delete_files(ctx.settings, row.path, row.thumb_path)


async def update_attachment(
    ctx: Context,
    owner_id: int,
    media_id: int,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
) -> None:
    """Change the description or focal point of one's own attachment (others' are NotFound)."""
    values: dict[str, object] = {}
    if description is not None:
        values["description"] = _check_description(description)
    if focus is not None:
        values["focus_x"], values["focus_y"] = _check_focus(focus)
    async with ctx.db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.media.c.id).where(
                    t.media.c.id == media_id, t.media.c.owner_id == owner_id
                )
            )
        ).first()
        if row is None:
            raise NotFound("no such media")
        if values:
            await conn.execute(t.media.update().where(t.media.c.id == media_id).values(**values))


def parse_focus(value: str) -> tuple[float, float] | None:
    """Mastodon's ``focus`` form value ``"x,y"`` (empty means none)."""
    if not value.strip():
        return None
    try:
        x, y = (float(v) for v in value.split(","))
    except ValueError:
        raise ValidationError("focus: two numbers like 0.2,-0.4", field="focus") from None
    return _check_focus((x, y))


async def may_see_file(ctx: Context, who: Viewer, rel: str) -> bool:
    """Whether ``who`` may fetch the stored file ``rel`` (an attachment or its thumbnail).

    An attached file goes with its post's visibility; one not attached yet only to its owner.
    NotFound when no attachment has that file.
    """
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.media.c.owner_id, t.media.c.post_id).where(
                    sa.or_(t.media.c.path == rel, t.media.c.thumb_path == rel)
                )
            )
        ).first()
        if row is None:
            raise NotFound("no such file")
        if row.post_id is None:
            return who.actor_id is not None and who.actor_id == row.owner_id
        return await can_see_post(conn, who, row.post_id)


async def own_attachment(conn: AsyncConnection, actor_id: int, media_id: int) -> sa.Row | None:
    """The attachment ``media_id`` when ``actor_id`` uploaded it, else None."""
    return (
        await conn.execute(
            sa.select(t.media).where(t.media.c.id == media_id, t.media.c.owner_id == actor_id)
        )
    ).first()
