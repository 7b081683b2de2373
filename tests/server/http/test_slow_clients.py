"""Slow clients (issue 11, finding 6): header and body deadlines, connections per address,
WebSocket heartbeats and a bound on open streams per token. Real sockets on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.app import create_app
from server.config import load_settings
from server.http import slow_clients
from tests.api.conftest import api_token
from tests.conftest import free_port

pytestmark = pytest.mark.slow

Serve = Callable[..., Awaitable[int]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """Start an app the way ``koers serve`` does (AppRunner, guard, TCPSite); returns its port."""
    runners: list[web.AppRunner] = []

    async def start(**overrides: object) -> int:
        port = free_port()
        settings = load_settings(
            env={},
            url=f"http://127.0.0.1:{port}",
            data_dir=str(tmp_path / f"data-{port}"),
            database_url=f"sqlite:///{tmp_path / f'koers-{port}.sqlite3'}",
            secret="slow-" + "x" * 40,
            run_workers=False,
            rate_limit_loopback=False,
            **overrides,
        )
        runner = web.AppRunner(create_app(settings))
        await runner.setup()
        assert runner.server is not None
        slow_clients.guard(runner.server, settings)
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return port

    yield start
    for runner in runners:
        await runner.cleanup()


async def _read_all(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``within`` runs out)."""
    data = b""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), left)
        except TimeoutError:
            break
        if not chunk:
            return data + b"<closed>"
        data += chunk
    return data


async def test_trickled_headers_and_bodies_are_cut_off(serve: Serve) -> None:
    port = await serve(header_timeout=0.5, body_timeout=0.5)
    # headers one byte at a time, never finished
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    for byte in b"GET /":
        writer.write(bytes([byte]))
        await asyncio.sleep(0.05)
    got = await _read_all(reader, 3)
    assert got.startswith(b"HTTP/1.1 408") and got.endswith(b"<closed>"), got
    assert time.monotonic() - started < 2.5
    writer.close()

    # a body announced but trickled
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n{"
    )
    started = time.monotonic()
    for _ in range(3):
        writer.write(b" ")
        await asyncio.sleep(0.1)
    got = await _read_all(reader, 2)
    assert b"408 Request Timeout" in got and got.endswith(b"<closed>"), got
    assert time.monotonic() - started < 2.5
    writer.close()

    # a client that sends its request at once is answered as always
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/api/v1/instance") as resp:
            assert resp.status == 200
        body = {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        async with http.post(f"http://127.0.0.1:{port}/api/v1/apps", json=body) as resp:
            assert resp.status == 200


async def test_connections_per_address_are_bounded(serve: Serve) -> None:
    port = await serve(connections_per_address=3, header_timeout=10, trusted_proxies=())
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await _read_all(reader, 2) == b"<closed>"  # the fourth is closed at once
    writer.close()
    for _, w in held[:1]:
        w.close()
        await w.wait_closed()
    await asyncio.sleep(0.2)
    async with aiohttp.ClientSession() as http:  # room again once one went away
        async with http.get(f"http://127.0.0.1:{port}/api/v1/instance") as resp:
            assert resp.status == 200
    for _, w in held[1:]:
        w.close()


async def test_streams_per_token_are_bounded_and_dead_sockets_dropped(make_instance) -> None:
    inst = await make_instance(streams_per_token=2, stream_heartbeat=0.4)
    await inst.create_member("ana")
    token = await api_token(inst, "ana")
    url = f"{inst.url}/api/v1/streaming?stream=user&access_token={token}"
    async with aiohttp.ClientSession() as http:
        first = await http.ws_connect(url)
        second = await http.ws_connect(url)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)
        assert refused.value.status == 429
        await first.close()
        await asyncio.sleep(0.1)
        third = await http.ws_connect(url)  # a closed one frees its place
        await second.close()
        await third.close()
        # a client that never answers the pings is closed by the server
        deaf = await http.ws_connect(url, autoping=False)
        kinds = []
        async with asyncio.timeout(5):
            async for msg in deaf:
                kinds.append(msg.type)
        assert aiohttp.WSMsgType.PING in kinds and deaf.closed
