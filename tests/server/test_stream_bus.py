"""Live updates across processes: on PostgreSQL, a post saved by another process (a ``koers worker``
or a second web process on the same database) reaches the streaming clients of this one."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.events import Event
from server.keys import CTX
from server.services import posts
from server.stream_bus import BUS, EventBus, decode, encode
from server.visibility import Audience
from tests.api.conftest import api_token
from tests.api.test_streaming import collect_until, open_sse, sse_events, update_of
from tests.conftest import Instance


def test_payload_round_trip_and_refusals() -> None:
    payload = encode("me", Event("post.created", {"post_id": 7}))
    assert payload is not None and decode(payload) == ("me", Event("post.created", {"post_id": 7}))
    assert encode("me", Event("x", {"blob": "y" * 9000})) is None  # NOTIFY's 8000-byte limit
    assert decode("not json") is None
    assert decode(json.dumps({"k": 1, "d": {}})) is None
    assert decode(json.dumps(["post.created"])) is None


async def test_sqlite_runs_no_bus(instance: Instance) -> None:
    if not instance.db.is_sqlite:
        pytest.skip("the SQLite case")
    assert BUS not in instance.app


async def test_post_saved_by_another_process_is_streamed(instance: Instance) -> None:
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite deployments are one process")
    ann = await instance.create_member("ann")
    token = await api_token(instance, "ann")
    # A second process on the same database, as `koers worker` or a second `koers serve` is.
    other = create_app(instance.settings)
    server = TestServer(other, host="127.0.0.1")
    await server.start_server()
    try:
        assert isinstance(instance.app[BUS], EventBus) and instance.app[BUS].listening.is_set()
        resp = await open_sse(instance, "public", token)
        events = sse_events(resp)
        draft = posts.Draft(source="from the other process", audience=Audience.PUBLIC)
        post_id = await posts.create_post(other[CTX], ann.actor_id, draft)
        seen = await collect_until(events, update_of(post_id))
        assert "from the other process" in seen[-1][1]
        resp.close()
    finally:
        await server.close()


async def test_a_stopped_bus_opens_no_connection_and_closes_what_it_drops(
    instance: Instance,
) -> None:
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    from server.stream_bus import plain_url

    seen: list[Event] = []

    async def feed(event: Event) -> None:
        seen.append(event)

    bus = EventBus(plain_url(instance.db.url), feed)
    await bus.start()
    await bus.publish(Event("post.created", {"post_id": 1}))
    first = bus._publisher
    assert first is not None and not first.is_closed()
    # A publishing connection that fails is closed before a new one is opened (no leaked backend).
    import asyncpg

    with pytest.raises(
        asyncpg.DivisionByZeroError
    ):  # the connection is left in an aborted transaction
        await first.execute("BEGIN; SELECT 1/0")
    await bus.publish(Event("post.created", {"post_id": 2}))
    assert first.is_closed() and bus._publisher is not None and bus._publisher is not first
    await bus.stop()
    # An event committed during shutdown (after the bus stopped) opens no new connection.
    await bus.publish(Event("post.created", {"post_id": 3}))
    assert bus._publisher is None


class _Proxy:
    """A TCP proxy to PostgreSQL that can go silent (forwards nothing, closes nothing), as a dropped
    network path does; counts the connections made through it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.silent = False
        self.connections = 0
        self.server: asyncio.base_events.Server | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                if not self.silent:
                    writer.write(data)
                    await writer.drain()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]


async def test_a_silent_listening_connection_is_replaced(instance: Instance, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    from urllib.parse import urlsplit

    from server import stream_bus

    monkeypatch.setattr(stream_bus, "CHECK_SECONDS", 0.05)
    monkeypatch.setattr(stream_bus, "KEEPALIVE_SECONDS", 0.2)
    monkeypatch.setattr(stream_bus, "KEEPALIVE_TIMEOUT", 0.3)
    monkeypatch.setattr(stream_bus, "RECONNECT_DELAYS", (0.05,))
    dsn = stream_bus.plain_url(instance.db.url)
    parts = urlsplit(dsn)
    proxy = _Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await proxy.start()
    seen: list[Event] = []

    async def feed(event: Event) -> None:
        seen.append(event)

    bus = EventBus(dsn.replace(f":{parts.port}", f":{port}"), feed)
    await bus.start()
    try:
        assert proxy.connections == 1
        proxy.silent = True  # the path drops; the listening connection still looks open
        for _ in range(100):
            if proxy.connections >= 2:
                break
            await asyncio.sleep(0.05)
        proxy.silent = False
        assert proxy.connections >= 2, "the silent connection was never replaced"
        await asyncio.wait_for(bus.listening.wait(), 5)
        other = EventBus(dsn, feed)  # another process publishes: the new listener receives it
        await other.publish(Event("post.created", {"post_id": 42}))
        await other.stop()
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert seen == [Event("post.created", {"post_id": 42})]
    finally:
        await bus.stop()
        assert proxy.server is not None
        proxy.server.close()
