"""Secrets never reach the logs: a whole client session, its captured log lines grepped."""

from __future__ import annotations

import logging

import pytest

from server.http.access_log import ACCESS_LOG, REDACTED, redact
from tests.api.conftest import api_token
from tests.conftest import PASSWORD, Instance


def test_redact_takes_out_secret_parameters_only() -> None:
    line = (
        "GET /api/v1/streaming?stream=user&access_token=abc123&limit=5"
        "&user%5Bpassword%5D=hunter2&client_secret=s3&code=c0de;state=st HTTP/1.1"
    )
    got = redact(line)
    for secret in ("abc123", "hunter2", "s3", "c0de", "=st "):
        assert secret not in got, secret
    assert "stream=user" in got and "limit=5" in got and got.count(REDACTED) == 5
    assert redact("GET /@alice?page=2 HTTP/1.1") == "GET /@alice?page=2 HTTP/1.1"


async def test_a_client_session_leaves_no_secret_in_the_logs(
    instance: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    await instance.create_member("alice")
    # The access log of ``koers serve`` for the connections opened from here on.
    assert instance.server.runner is not None and instance.server.runner.server is not None
    instance.server.runner.server._kwargs.update(ACCESS_LOG)
    caplog.set_level(logging.DEBUG)
    token = await api_token(instance, "alice")
    c = instance.client
    resp = await c.get(f"/api/v1/accounts/verify_credentials?access_token={token}")
    assert resp.status == 200
    resp = await c.get(
        "/oauth/authorize?response_type=code&client_id=nope&code=the-code-1"
        "&state=the-state-1&client_secret=the-secret-1"
    )
    assert resp.status < 500
    resp = await c.get(f"/login?password={PASSWORD}&refresh_token=the-refresh-1")
    assert resp.status < 500
    url = instance.url.replace("http://", "ws://") + f"/api/v1/streaming?access_token={token}"
    async with c.session.ws_connect(url + "&stream=public") as ws:
        await ws.send_json({"type": "subscribe", "stream": "nonsense"})
        await ws.receive_json(timeout=5)
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert any("/api/v1/streaming" in r.getMessage() for r in access), "no access log captured"
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in (token, PASSWORD, "the-code-1", "the-state-1", "the-secret-1", "the-refresh-1"):
        assert secret not in text, secret
    assert REDACTED in text
