"""Blurhash placeholders: a valid blurhash becomes a tiny PNG behind the picture; anything else
(empty, too long, not base 83, markup from a remote server) gives no style at all."""

from __future__ import annotations

import base64
import io

from PIL import Image

from server.services import media
from server.web.placeholders import SIZE, blurhash_style, placeholder_uri
from tests.server.web.helpers import image_bytes

PREFIX = ' style="background:url(data:image/png;base64,'


def test_an_uploaded_pictures_blurhash_becomes_its_placeholder() -> None:
    processed = media.process_image(image_bytes((300, 200), color="teal"), "attachment")
    assert processed.blurhash
    style = str(blurhash_style(processed.blurhash))
    assert style.startswith(PREFIX) and style.endswith(') center/cover no-repeat"')
    png = base64.b64decode(style[len(PREFIX) :].split(")", 1)[0])
    assert len(png) < 400
    tiny = Image.open(io.BytesIO(png))
    assert tiny.size == SIZE
    r, g, b = tiny.convert("RGB").getpixel((4, 3))
    assert g > r + 40 and b > r + 40  # teal, as the picture


def test_no_placeholder_without_a_valid_blurhash() -> None:
    for bad in (None, "", "x", "L" + "0" * 200, '"><script>alert(1)</script>', "LEHV6nWB2yk8p"):
        assert str(blurhash_style(bad)) == "", bad
    assert placeholder_uri("LEHV6nWB2yk8pyo0adR*.7kCMdnj") is not None
