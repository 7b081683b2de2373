"""Blurhash placeholders for pictures in post cards, without JavaScript.

A media row's ``blurhash`` (computed at upload, ``server.services.media``, or given by the remote
server) is decoded here into a tiny PNG (``SIZE``) and set as the image's CSS background: the
browser stretches it smoothly, so the blurred colours show while the picture loads (or when it
does not). About 250 bytes a picture; decoded once per hash (``lru_cache``).
"""

from __future__ import annotations

import base64
import io
import logging
from functools import lru_cache

from markupsafe import Markup

log = logging.getLogger(__name__)

SIZE = (8, 6)
MAX_HASH = 100  # the column's length: anything longer is not a blurhash


@lru_cache(maxsize=2048)
def placeholder_uri(blurhash_value: str) -> str | None:
    """A ``data:`` URI of the decoded blurhash, or None when it is not a valid blurhash."""
    import blurhash

    if not blurhash_value or len(blurhash_value) > MAX_HASH:
        return None
    try:
        image = blurhash.decode(blurhash_value, *SIZE)
    except (blurhash.BlurhashDecodeError, ValueError, IndexError, KeyError):
        log.debug("not a blurhash: %r", blurhash_value)
        return None
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def blurhash_style(blurhash_value: str | None) -> Markup:
    """The ``style`` attribute (with its leading space) that shows the placeholder behind an
    ``<img>``; empty when there is none."""
    uri = placeholder_uri(blurhash_value) if blurhash_value else None
    if uri is None:
        return Markup("")
    return Markup(' style="background:url({}) center/cover no-repeat"').format(Markup(uri))
