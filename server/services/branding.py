"""The organisation's logo: an administrator's setting, shown in every page's header.

The logo is the organisation actor's avatar (``actors.avatar_path`` of ``ctx.organization_id``):
stored and served like every avatar (``/media/avatars/…``, square, 400x400, metadata stripped),
and so also the icon other servers see on the organisation's actor: a change sends the whole
actor's ``Update`` to its followers (``ACTOR_UPDATED``, as every profile change). Pages read it
through a small per-process cache (``CACHE_SECONDS``) so a page view costs no query; a change here
clears it, other processes see it within the cache time.
"""

from __future__ import annotations

import asyncio
import logging
import time

import sqlalchemy as sa

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.services import media
from server.storage import schema as t

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
# (instance URL, organisation actor id) -> (read at, path): several instances may share a process
_cache: dict[tuple[str, int], tuple[float, str | None]] = {}


async def _stored(ctx: Context) -> str | None:
    async with ctx.db.read() as conn:
        return await conn.scalar(
            sa.select(t.actors.c.avatar_path).where(t.actors.c.id == ctx.organization_id)
        )


async def logo_path(ctx: Context) -> str | None:
    """The logo's path under the media dir (``/media/{path}``), or None for the initials mark."""
    if ctx.organization_id is None:
        return None
    key = (ctx.settings.url, ctx.organization_id)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    path = await _stored(ctx)
    _cache[key] = (time.monotonic(), path)
    return path


async def set_logo(ctx: Context, image: media.ProcessedImage | None) -> None:
    """Make a processed avatar image (``media.prepare(data, "avatar")``) the logo, or remove the
    logo (None); the old file is deleted once the row no longer names it. The organisation's
    followers on other servers get its whole actor, with the new icon (or none)."""
    if ctx.organization_id is None:
        raise RuntimeError("the organisation actor is not set up")
    old = await _stored(ctx)
    new = None
    if image is not None:
        new, _ = await asyncio.to_thread(media.store_image, ctx.settings, image, "avatar")
    try:
        async with ctx.db.write() as conn:
            await conn.execute(
                t.actors.update()
                .where(t.actors.c.id == ctx.organization_id)
                .values(avatar_path=new, updated_at=clock.now())
            )
            event = await ctx.events.emit(conn, kinds.ACTOR_UPDATED, actor_id=ctx.organization_id)
    except BaseException:  # no file without the row that names it
        media.delete_files(ctx.settings, new)
        raise
    await ctx.events.committed(event)
    _cache.pop((ctx.settings.url, ctx.organization_id), None)
    media.delete_files(ctx.settings, old)
    log.info("organisation logo %s", "set" if new else "removed")
