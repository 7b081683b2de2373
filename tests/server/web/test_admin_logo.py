"""The organisation's logo, an administrator's setting on /admin: uploaded like an avatar (checked,
cut square, stored under /media/avatars), shown in every page's header instead of the initials
mark, removable; only administrators may change it, and a bad file is an error beside the field."""

from __future__ import annotations

import re

from tests.conftest import Instance, post_form
from tests.server.web.helpers import image_bytes, upload_form

BRAND_IMG = re.compile(r'<a class="brand" href="/"><img class="logo" src="/media/(avatars/[^"]+)"')


async def test_admin_sets_and_removes_the_logo(instance: Instance) -> None:
    await instance.create_member("rita", admin=True)
    await instance.create_member("ann")
    admin = await instance.login("rita")
    before = await (await admin.get("/admin")).text()
    assert BRAND_IMG.search(before) is None and 'class="logo"' in before  # the initials mark

    resp = await upload_form(
        admin,
        "/admin/logo",
        {},
        {"logo": ("logo.png", image_bytes((900, 300), "PNG"), "image/png")},
        page="/admin",
    )
    assert resp.status == 302, await resp.text()
    visitor = await instance.new_client()
    page = await (await visitor.get("/about")).text()
    found = BRAND_IMG.search(page)
    assert found, page[:1500]
    path = found.group(1)
    served = await visitor.get(f"/media/{path}")
    assert served.status == 200 and served.headers["Content-Type"] == "image/png"
    assert (instance.settings.media_dir / path).is_file()

    bad = await upload_form(
        admin, "/admin/logo", {}, {"logo": ("x.txt", b"not an image", "text/plain")}, page="/admin"
    )
    html = await bad.text()
    assert bad.status == 415 and 'id="f-logo-error"' in html and "not a readable image" in html

    member = await instance.login("ann")
    denied = await upload_form(
        member,
        "/admin/logo",
        {},
        {"logo": ("l.png", image_bytes((50, 50), "PNG"), "image/png")},
        page="/settings/profile",
    )
    assert denied.status == 403
    assert (
        await post_form(member, "/admin/logo/remove", {}, page="/settings/profile")
    ).status == 403

    assert (await post_form(admin, "/admin/logo/remove", {}, page="/admin")).status == 302
    assert BRAND_IMG.search(await (await visitor.get("/about")).text()) is None
    assert not (instance.settings.media_dir / path).exists()
