"""HTML and script typed into any text field come out as harmless text on every page."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.server.web.helpers import XSS, assert_no_active_html, image_bytes, upload_form


async def test_profile_text_fields_are_sanitised(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    for fmt in ("markdown", "plain"):
        resp = await upload_form(
            client,
            "/settings/profile",
            {
                "display_name": XSS[:100],
                "bio": f"Hi {XSS}",
                "bio_format": fmt,
                "field_name_0": XSS,
                "field_value_0": XSS,
                "competencies": "script alert: expert\n<img src=x onerror=alert(3)>",
                "default_audience": "public",
            },
        )
        assert resp.status == 302, await resp.text()
        for page in ("/@ana", "/settings/profile", "/people?competency=%3Cimg", "/@ana/followers"):
            html = await (await client.get(page)).text()
            assert_no_active_html(html)
        profile = await (await instance.client.get("/@ana")).text()
        assert (
            "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
        )  # shown as text, not dropped silently
    async with instance.db.read() as conn:
        names = [r[0] for r in await conn.execute(sa.select(t.competencies.c.name))]
    assert "<img src=x onerror=alert(3)>" in names  # stored as typed; escaped whenever shown


async def test_post_spoiler_and_media_description_are_sanitised(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    for fmt in ("markdown", "plain"):
        resp = await upload_form(
            client,
            "/compose",
            {
                "status": f"look {XSS} [x](javascript:alert(4))",
                "spoiler_text": XSS,
                "audience": "public",
                "format": fmt,
                "token": fmt,
                "description_0": XSS,
            },
            {"media_0": ("a.png", image_bytes((20, 20), "PNG"), "image/png")},
            page="/compose",
        )
        assert resp.status == 302, await resp.text()
        url = resp.headers["Location"]
        for page in (url, "/@ana", "/tags/x", url + "/history"):
            html = await (await instance.client.get(page)).text()
            assert_no_active_html(html)
        await upload_form(
            client,
            url + "/edit",
            {"status": f"edited {XSS}", "spoiler_text": XSS},
            page=url + "/edit",
        )
        for page in (url, url + "/history", "/home"):
            assert_no_active_html(await (await client.get(page)).text())


async def test_error_pages_do_not_reflect_markup(instance):
    resp = await instance.client.get("/@%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert resp.status == 404
    assert "<script>alert(1)</script>" not in await resp.text()
    resp = await instance.client.get("/people?competency=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert_no_active_html(await resp.text())
