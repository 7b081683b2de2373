"""Image uploads: only real images, size limits, metadata stripped, resized; media visibility."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from server.services import media
from server.storage import schema as t
from tests.conftest import post_form
from tests.server.web.helpers import image_bytes, upload_form

PROFILE = {"display_name": "Changed", "bio": "new bio", "default_audience": "public"}


async def _actor(instance, username: str):  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return (
            await conn.execute(sa.select(t.actors).where(t.actors.c.username == username))
        ).first()


async def test_text_file_named_png_is_415_and_changes_nothing(instance):
    await instance.create_member("ana", display_name="Ana")
    client = await instance.login("ana")
    resp = await upload_form(
        client,
        "/settings/profile",
        PROFILE,
        {"avatar": ("me.png", b"just some text\n", "image/png")},
    )
    assert resp.status == 415
    body = await resp.text()
    assert "JPEG, PNG, GIF or WebP" in body and 'aria-invalid="true"' in body
    row = await _actor(instance, "ana")
    assert row.display_name == "Ana" and row.summary_html == "" and row.avatar_path is None
    assert not list((instance.settings.media_dir).rglob("*.*"))


async def test_oversized_upload_is_413_and_changes_nothing(instance):
    await instance.create_member("ana", display_name="Ana")
    client = await instance.login("ana")
    big = image_bytes((64, 64), "PNG") + b"\0" * (media.MAX_IMAGE_BYTES + 1)
    resp = await upload_form(
        client, "/settings/profile", PROFILE, {"header": ("big.png", big, "image/png")}
    )
    assert resp.status == 413
    assert "too large" in await resp.text()
    row = await _actor(instance, "ana")
    assert row.display_name == "Ana" and row.header_path is None


async def test_avatar_is_resized_and_stripped_of_metadata(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    original = image_bytes((1200, 900), "JPEG", exif=True)
    assert (
        Image.open(io.BytesIO(original)).getexif().get(0x010F) == "SpyCam"
    )  # the test input really has EXIF
    resp = await upload_form(
        client, "/settings/profile", PROFILE, {"avatar": ("me.jpg", original, "image/jpeg")}
    )
    assert resp.status == 302, await resp.text()
    row = await _actor(instance, "ana")
    assert row.display_name == "Changed" and row.avatar_path.startswith("avatars/")
    served = await instance.client.get(f"/media/{row.avatar_path}")
    assert served.status == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert "public" in served.headers["Cache-Control"]
    data = await served.read()
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (400, 400)
    assert len(stored.getexif()) == 0 and "exif" not in stored.info
    assert b"SpyCam" not in data
    # A new avatar replaces the old file.
    old_path = row.avatar_path
    await upload_form(
        client,
        "/settings/profile",
        PROFILE,
        {"avatar": ("me.png", image_bytes((50, 50), "PNG"), "image/png")},
    )
    assert not (instance.settings.media_dir / old_path).exists()
    assert (await instance.client.get(f"/media/{old_path}")).status == 404


def test_exif_orientation_is_applied_and_attachments_fit_1920():
    img = Image.new("RGB", (4000, 1000), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: the picture is really portrait
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    result = media.process_image(buf.getvalue(), "attachment")
    assert (result.width, result.height) == (480, 1920)
    assert max(Image.open(io.BytesIO(result.thumb)).size) == 400
    assert result.blurhash and len(result.blurhash) > 6
    assert len(Image.open(io.BytesIO(result.data)).getexif()) == 0


def test_decompression_bomb_is_refused():
    huge = io.BytesIO()
    Image.new("1", (10000, 10000)).save(huge, "PNG")  # tiny file, 100 million pixels
    try:
        media.process_image(huge.getvalue(), "attachment")
    except media.TooLarge as exc:
        assert "pixels" in exc.message
    else:
        raise AssertionError("a 100-megapixel image was accepted")


async def test_missing_or_wrong_csrf_is_403_and_writes_nothing(instance):
    await instance.create_member("ana", display_name="Ana")
    client = await instance.login("ana")
    resp = await upload_form(client, "/settings/profile", PROFILE, csrf=False)
    assert resp.status == 403
    resp = await client.post(
        "/compose", data={"_csrf": "forged", "status": "hello"}, allow_redirects=False
    )
    assert resp.status == 403
    resp = await client.post("/settings/invites", data={"max_uses": "1"}, allow_redirects=False)
    assert resp.status == 403
    assert (await _actor(instance, "ana")).display_name == "Ana"
    async with instance.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.posts))).scalar() == 0
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.invites))).scalar() == 0


async def test_attachment_of_followers_only_post_is_hidden_from_strangers(instance):
    await instance.create_member("ana")
    await instance.create_member("ben")
    await instance.create_member("cy")
    ben = await instance.login("ben")
    await post_form(ben, "/@ana/follow", {}, page="/@ana")
    ana = await instance.login("ana")
    resp = await upload_form(
        ana,
        "/compose",
        {
            "status": "our garden",
            "audience": "followers",
            "token": "t1",
            "description_0": "tomato plants",
        },
        {"media_0": ("garden.jpg", image_bytes(exif=True), "image/jpeg")},
        page="/compose",
    )
    assert resp.status == 302, await resp.text()
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.media))).first()
    assert row.post_id is not None and row.description == "tomato plants"
    for path in (row.path, row.thumb_path):
        assert (await instance.client.get(f"/media/{path}")).status == 404  # anonymous
        cy = await instance.login("cy")
        assert (await cy.get(f"/media/{path}")).status == 404  # logged in, not a follower
        seen = await ben.get(f"/media/{path}")
        assert seen.status == 200 and "private" in seen.headers["Cache-Control"]
        assert b"SpyCam" not in await seen.read()
    post_page = await (await ben.get(resp.headers["Location"])).text()
    assert 'alt="tomato plants"' in post_page
    # the picture's blurhash, computed at upload, is its placeholder while it loads
    assert row.blurhash
    assert 'alt="tomato plants" loading="lazy" style="background:url(data:image/png;base64,' in (
        post_page
    )


async def test_unattached_media_only_for_owner_and_no_path_traversal(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("ben")
    media_id = await media.create_attachment(
        instance.ctx, ana.actor_id, image_bytes(), description="draft"
    )
    async with instance.db.read() as conn:
        path = (
            await conn.execute(sa.select(t.media.c.path).where(t.media.c.id == media_id))
        ).scalar()
    owner = await instance.login("ana")
    assert (await owner.get(f"/media/{path}")).status == 200
    assert (await (await instance.login("ben")).get(f"/media/{path}")).status == 404
    assert (await instance.client.get(f"/media/{path}")).status == 404
    (instance.settings.data_dir / "secret.txt").write_text("the-file-contents-7f3a")
    for probe in (
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/avatars/../../secret.txt",
    ):
        resp = await instance.client.get(probe)
        # the 404 page may name the path asked for, never show what the file holds
        assert resp.status == 404 and "the-file-contents-7f3a" not in await resp.text()
