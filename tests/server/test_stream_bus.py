"""Live updates across processes: on PostgreSQL, a post saved by another process (a ``koers worker``
or a second web process on the same database) reaches the streaming clients of this one."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestServer

from server.app import CTX, create_app
from server.events import Event
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


async def test_a_stopped_bus_opens_no_connection_and_closes_what_it_drops(instance: Instance) -> None:
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

    with pytest.raises(asyncpg.DivisionByZeroError):  # the connection is left in an aborted transaction
        await first.execute("BEGIN; SELECT 1/0")
    await bus.publish(Event("post.created", {"post_id": 2}))
    assert first.is_closed() and bus._publisher is not None and bus._publisher is not first
    await bus.stop()
    # An event committed during shutdown (after the bus stopped) opens no new connection.
    await bus.publish(Event("post.created", {"post_id": 3}))
    assert bus._publisher is None
