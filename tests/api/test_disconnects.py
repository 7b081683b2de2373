"""Faults on an upgraded socket close it with a reason; a client going away is no server error."""

from __future__ import annotations

import logging

import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import make_mocked_request

from server.api import streaming
from server.web.middleware import error_middleware
from tests.conftest import Instance


async def test_a_fault_in_the_streaming_handler_closes_the_socket_with_a_reason(
    instance: Instance, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("a bug in a control message")

    monkeypatch.setattr(streaming, "_control", broken)
    url = instance.url.replace("http://", "ws://") + "/api/v1/streaming"
    async with instance.client.session.ws_connect(url) as ws:
        await ws.send_json({"type": "subscribe", "stream": "public"})
        msg = await ws.receive(timeout=5)
        assert msg.type == WSMsgType.CLOSE, msg
        assert msg.data == WSCloseCode.INTERNAL_ERROR and msg.extra == "internal server error"
    assert "a bug in a control message" in caplog.text  # logged once, with its traceback
    assert "unhandled error" not in caplog.text  # not turned into an HTTP 500 on the socket


async def test_a_client_gone_mid_body_is_logged_at_debug_level(
    instance: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    async def reading(_request: object) -> None:
        raise ConnectionResetError("Connection lost")

    request = make_mocked_request("POST", "/api/v1/statuses", app=instance.app)
    with caplog.at_level(logging.DEBUG, logger="server.web.middleware"):
        resp = await error_middleware(request, reading)
    assert resp.status == 400
    records = [r for r in caplog.records if r.name == "server.web.middleware"]
    assert [r.levelno for r in records] == [logging.DEBUG], records
    assert "client went away" in records[0].getMessage()
