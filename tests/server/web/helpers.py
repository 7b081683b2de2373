"""Helpers for the web page tests: multipart forms with a CSRF token, images, safe-HTML checks."""

from __future__ import annotations

import io

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from PIL import Image

from tests.conftest import csrf_from

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


async def upload_form(
    client: TestClient,
    path: str,
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None = None,
    *,
    page: str = "/settings/profile",
    csrf: bool = True,
):  # type: ignore[no-untyped-def]
    """POST a multipart form like a browser: text fields plus (filename, bytes, content type) files."""
    data = FormData()
    if csrf:
        data.add_field("_csrf", csrf_from(await (await client.get(page)).text()))
    for name, value in fields.items():
        data.add_field(name, value)
    for name, (filename, content, ctype) in (files or {}).items():
        data.add_field(name, content, filename=filename, content_type=ctype)
    return await client.post(path, data=data, allow_redirects=False)


def image_bytes(
    size: tuple[int, int] = (800, 600),
    fmt: str = "JPEG",
    *,
    exif: bool = False,
    color: str = "teal",
) -> bytes:
    image = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010F] = "SpyCam"  # Make
        info[0x0110] = "Model X"  # Model
        info[0x8825] = {2: (52.0, 22.0, 1.0)}  # GPS latitude
        image.save(buf, fmt, exif=info)
    else:
        image.save(buf, fmt)
    return buf.getvalue()


def assert_no_active_html(html: str) -> None:
    """No script element and no event-handler attribute came through from user text."""
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main")
    assert main is not None
    assert main.find("script") is None, "a <script> element reached the page"
    for tag in main.find_all(True):
        for attr in tag.attrs:
            assert not attr.lower().startswith("on"), f"event handler {attr} on <{tag.name}>"
        for attr in ("href", "src", "action"):
            value = str(tag.get(attr, "")).strip().lower()
            assert not value.startswith(("javascript:", "data:")), (
                f"{attr}={value!r} on <{tag.name}>"
            )
    assert "<script>alert(1)</script>" not in html
