"""Bad input gives the right 4xx with a message and changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import aiohttp
import sqlalchemy as sa
from PIL import Image

from server import clock
from server.storage import schema as t
from tests.api.conftest import api_token


def _upload(data: bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="upload.png", content_type="image/png")
    for k, v in fields.items():
        form.add_field(k, v)
    return form


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _count(instance, table) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def _error(resp, status: int) -> str:  # type: ignore[no-untyped-def]
    body = await resp.json()
    assert resp.status == status, (resp.status, body)
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


async def test_bad_statuses_change_nothing(instance):
    await instance.create_member("alice")
    ta = await api_token(instance, "alice")
    c = instance.client
    cases = [
        ({}, 422),
        ({"status": "x" * 5001}, 422),
        ({"status": "x", "media_ids": ["abc"]}, 422),
        ({"status": "x", "media_ids": ["999999"]}, 422),
        ({"status": "x", "in_reply_to_id": "999999"}, 404),
        ({"status": "x", "poll": {"options": ["a"], "expires_in": 600}}, 422),
        ({"status": "x", "poll": {"options": ["a", "b"], "expires_in": "soon"}}, 422),
        ({"status": "x", "scheduled_at": "2030-01-01T00:00:00Z"}, 422),
        ({"status": ["not", "a", "string"]}, 422),
        ({"status": "x", "visibility": "community"}, 422),
        ({"status": "x", "sensitive": "maybe"}, 422),
    ]
    for data, status in cases:
        resp = await c.post("/api/v1/statuses", json=data, headers=_h(ta))
        assert resp.status == status, data
        await _error(resp, status)
    resp = await c.post(
        "/api/v1/statuses", data="{not json", headers={**_h(ta), "Content-Type": "application/json"}
    )
    await _error(resp, 400)
    assert await _count(instance, t.posts) == 0


async def test_idempotency_key_posts_once(instance):
    await instance.create_member("alice")
    ta = await api_token(instance, "alice")
    h = {**_h(ta), "Idempotency-Key": "abc-123"}
    first = await (
        await instance.client.post("/api/v1/statuses", json={"status": "once"}, headers=h)
    ).json()
    second = await (
        await instance.client.post("/api/v1/statuses", json={"status": "once"}, headers=h)
    ).json()
    assert first["id"] == second["id"] and await _count(instance, t.posts) == 1


async def test_unknown_ids_and_other_members_objects(instance):
    await instance.create_member("alice")
    await instance.create_member("bob")
    ta, tb = await api_token(instance, "alice"), await api_token(instance, "bob")
    c = instance.client
    status = await (
        await c.post("/api/v1/statuses", json={"status": "mine"}, headers=_h(ta))
    ).json()
    for path in (
        "/api/v1/statuses/999999",
        "/api/v1/accounts/999999",
        "/api/v1/polls/999999",
        "/api/v1/statuses/abc",
        "/api/v1/notifications/999999",
    ):
        resp = await c.get(path, headers=_h(ta))
        assert resp.status == 404, path
    await _error(await c.post("/api/v1/statuses/999999/favourite", headers=_h(ta)), 404)
    await _error(await c.delete(f"/api/v1/statuses/{status['id']}", headers=_h(tb)), 403)
    await _error(
        await c.put(
            f"/api/v1/statuses/{status['id']}", json={"status": "bob's now"}, headers=_h(tb)
        ),
        403,
    )
    check = await (await c.get(f"/api/v1/statuses/{status['id']}", headers=_h(ta))).json()
    assert "mine" in check["content"] and check["edited_at"] is None

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    media = await (
        await c.post("/api/v2/media", data=_upload(buf.getvalue()), headers=_h(ta))
    ).json()
    await _error(
        await c.put(
            f"/api/v1/media/{media['id']}", json={"description": "bob was here"}, headers=_h(tb)
        ),
        404,
    )
    await _error(
        await c.post(
            "/api/v1/statuses", json={"status": "x", "media_ids": [media["id"]]}, headers=_h(tb)
        ),
        422,
    )
    lst = await (await c.post("/api/v1/lists", json={"title": "alice's"}, headers=_h(ta))).json()
    await _error(await c.delete(f"/api/v1/lists/{lst['id']}", headers=_h(tb)), 404)
    assert await _count(instance, t.lists) == 1


async def test_media_limits(instance):
    await instance.create_member("alice")
    ta = await api_token(instance, "alice")
    c = instance.client
    await _error(
        await c.post("/api/v2/media", data=_upload(b"not an image at all"), headers=_h(ta)), 415
    )
    await _error(
        await c.post("/api/v2/media", data=_upload(b"\0" * (9 * 1024 * 1024)), headers=_h(ta)), 413
    )
    await _error(
        await c.post("/api/v2/media", data={"description": "no file"}, headers=_h(ta)), 422
    )
    assert await _count(instance, t.media) == 0


async def test_tokens_and_scopes(instance):
    await instance.create_member("alice")
    c = instance.client
    read_only = await api_token(instance, "alice", "read")
    await _error(await c.post("/api/v1/statuses", json={"status": "x"}, headers=_h(read_only)), 403)
    follow_only = await api_token(instance, "alice", "follow")
    resp = await c.get("/api/v1/blocks", headers=_h(follow_only))
    assert resp.status == 200  # follow covers read:blocks
    await _error(await c.get("/api/v1/timelines/home", headers=_h(follow_only)), 403)
    await _error(await c.get("/api/v1/timelines/home"), 401)
    await _error(await c.get("/api/v1/timelines/home", headers={"Authorization": "Basic abc"}), 401)

    await _error(await c.get("/api/v1/timelines/home?limit=abc", headers=_h(read_only)), 422)
    expired = await api_token(instance, "alice")
    async with instance.db.write() as conn:
        await conn.execute(
            t.oauth_tokens.update().values(expires_at=clock.now() - timedelta(seconds=1))
        )
    resp = await c.get("/api/v1/timelines/home", headers=_h(expired))
    assert resp.status == 401 and "invalid" in (await resp.json())["error"]

    app = await (
        await c.post(
            "/api/v1/apps",
            data={
                "client_name": "x",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        )
    ).json()
    tok = await (
        await c.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read",
            },
        )
    ).json()
    resp = await c.get("/api/v1/timelines/public", headers=_h(tok["access_token"]))
    assert resp.status == 200
    await _error(
        await c.get("/api/v1/accounts/verify_credentials", headers=_h(tok["access_token"])), 422
    )
    assert await _count(instance, t.posts) == 0


async def test_a_negative_limit_is_clamped_not_passed_to_the_database(instance):
    """``LIMIT -5`` is an error on PostgreSQL and "no limit at all" on SQLite (the fuzzer found it)."""
    for name in ("ana", "anna", "annie"):
        await instance.create_member(name)
    token = await api_token(instance, "ana", scopes="read")
    for path in ("/api/v1/accounts/search?q=an&limit=-5", "/api/v1/suggestions?limit=-5"):
        resp = await instance.client.get(path, headers=_h(token))
        assert resp.status == 200, (path, await resp.text())
    found = await (
        await instance.client.get("/api/v1/accounts/search?q=an&limit=-5", headers=_h(token))
    ).json()
    assert len(found) == 1
