"""Deeply nested JSON from the network is a clear 400 (or a refusal), never a ``RecursionError``."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation import jsonload
from federation.errors import FetchError
from federation.fetch import Fetcher
from server.config import load_settings
from server.storage import schema as t
from tests.api.conftest import api_token
from tests.conftest import Instance

DEEP = b'{"a":' * 5000 + b"1" + b"}" * 5000
WAIT = 5


def test_the_decoder_limits_depth_and_size() -> None:
    nested = "[" * jsonload.MAX_DEPTH + "]" * jsonload.MAX_DEPTH
    assert jsonload.load(nested) == eval(nested)  # at the limit: read
    for bad, reason in [
        ("[" + nested + "]", "too_deep"),
        (DEEP, "too_deep"),
        (b"[" * 200_000 + b"]" * 200_000, "too_deep"),
        (b"{not json", "not_json"),
        (b"NaN", "not_json"),
        (b"\xff", "not_json"),
    ]:
        with pytest.raises(jsonload.JSONRefused) as err:
            jsonload.load(bad)
        assert err.value.reason == reason, bad[:20]
        assert isinstance(err.value, ValueError)
    with pytest.raises(jsonload.JSONRefused) as err:
        jsonload.load(b"[" + b"1," * 100 + b"1]", max_bytes=100)
    assert err.value.reason == "too_large" and "100 bytes" in str(err.value)


async def test_deep_json_is_a_400_on_every_body(
    instance: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    await instance.create_member("alice")
    token = await api_token(instance, "alice")
    c = instance.client
    h = {"Content-Type": "application/json"}
    auth = {**h, "Authorization": f"Bearer {token}"}
    cases = [
        ("POST", "/inbox", {"Content-Type": "application/activity+json"}),
        ("POST", "/users/alice/inbox", {"Content-Type": "application/activity+json"}),
        ("POST", "/api/v1/apps", h),
        ("POST", "/oauth/token", h),
        ("POST", "/api/v1/statuses", auth),
        ("PATCH", "/api/koers/v1/communities/1", auth),
    ]
    with caplog.at_level(logging.ERROR):
        for method, path, headers in cases:
            resp = await c.request(method, path, data=DEEP, headers=headers)
            text = await resp.text()
            assert resp.status == 400, (path, resp.status, text[:200])
            assert "nested deeper than 64 levels" in text, (path, text[:200])
    assert "RecursionError" not in caplog.text
    async with instance.db.read() as conn:
        for table in (t.activities, t.posts):
            count = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
            assert count == 0


async def test_deep_json_on_the_streaming_socket_is_answered(instance: Instance) -> None:
    url = instance.url.replace("http://", "ws://") + "/api/v1/streaming"
    async with instance.client.session.ws_connect(url) as ws:
        await ws.send_str(DEEP.decode())
        error = await ws.receive_json(timeout=WAIT)
        assert error == {"error": "not valid JSON", "status": 400}
        await ws.send_json({"type": "subscribe", "stream": "nonsense"})  # still connected
        error = await ws.receive_json(timeout=WAIT)
        assert error["status"] == 400 and "unknown stream" in error["error"]


@pytest.mark.slow  # serves HTTP
async def test_a_deep_fetched_document_is_refused() -> None:
    async def deep(_r: web.Request) -> web.Response:
        return web.Response(body=DEEP, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/deep", deep)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    f = Fetcher(load_settings(env={}, allow_private_addresses=True, url="https://koers.example"))
    try:
        with pytest.raises(FetchError) as err:
            await f.fetch_json(str(server.make_url("/deep")))
        assert err.value.reason == "not_json"
        assert "nested deeper than 64 levels" in str(err.value)
    finally:
        await f.close()
        await server.close()
