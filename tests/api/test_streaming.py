"""Streaming: Mastodon.py's listener, plain SSE and WebSocket clients receive what they may see, and
nothing else, on both backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from mastodon import StreamListener

from server.api import streaming
from server.services import follows, posts
from server.visibility import Audience
from tests.api.conftest import api_token, in_thread, mastodon_for
from tests.conftest import Instance

WAIT = 15.0


async def sse_events(resp: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of an event stream; heartbeats come as ("heartbeat", "")."""
    event = ""
    async for raw in resp.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, line.removeprefix("data: ")
        elif line == ":thump":
            yield "heartbeat", ""


async def collect_until(events: AsyncIterator[tuple[str, str]], done: Any) -> list[tuple[str, str]]:
    """Read events until ``done(event, data)`` is true (or fail after WAIT seconds)."""
    seen: list[tuple[str, str]] = []

    async def read() -> None:
        async for event, data in events:
            seen.append((event, data))
            if done(event, data):
                return

    await asyncio.wait_for(read(), WAIT)
    return seen


def update_of(post_id: int):  # type: ignore[no-untyped-def]
    return lambda event, data: event == "update" and json.loads(data)["id"] == str(post_id)


async def post(
    instance: Instance, actor_id: int, text: str, audience: Audience = Audience.PUBLIC
) -> int:
    return await posts.create_post(
        instance.ctx, actor_id, posts.Draft(source=text, audience=audience)
    )


@pytest.fixture
async def people(instance: Instance) -> dict[str, Any]:
    """ann posts; bob does not follow her; cy follows her. Each has a token."""
    out: dict[str, Any] = {}
    for name in ("ann", "bob", "cy"):
        account = await instance.create_member(name)
        out[name] = account.actor_id
        out[name + "_token"] = await api_token(instance, name)
    await follows.follow(instance.ctx, out["cy"], out["ann"])
    return out


async def open_sse(
    instance: Instance, path: str, token: str | None, **params: str
) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = await instance.client.get(f"/api/v1/streaming/{path}", headers=headers, params=params)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/event-stream"
    return resp


async def test_health(instance: Instance) -> None:
    resp = await instance.client.get("/api/v1/streaming/health")
    assert resp.status == 200 and await resp.text() == "OK"


class Collector(StreamListener):
    """A Mastodon.py listener that keeps the statuses it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict] = []

    def on_update(self, status: dict) -> None:
        self.received.append(status)

    def ids(self) -> list[str]:
        return [str(s["id"]) for s in self.received]


async def eventually(condition: Any) -> None:
    """Wait (without blocking the server) until ``condition()`` holds; give up after WAIT seconds."""
    for _ in range(int(WAIT * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)


def subscribed(instance: Instance) -> Any:
    return lambda: any(sub.streams for sub in instance.app[streaming.STREAMS_KEY].subscriptions)


async def test_mastodon_py_stream_user_receives_update(
    instance: Instance, people: dict[str, Any], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Frequent heartbeats let Mastodon.py's reader thread notice the close at once.
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.3)
    client = await mastodon_for(instance, "cy")
    listener = Collector()
    handle = await in_thread(client.stream_user, listener, run_async=True, timeout=WAIT)
    try:
        await eventually(subscribed(instance))  # the listener thread connects on its own
        post_id = await post(
            instance, people["ann"], "Hello to my **followers**", Audience.FOLLOWERS
        )
        await eventually(lambda: listener.received)
    finally:
        await in_thread(handle.close)
    assert listener.ids() == [str(post_id)]
    assert (
        listener.received[0]["account"]["acct"] == "ann"
        and listener.received[0]["visibility"] == "private"
    )


async def test_mastodon_py_stream_public(
    instance: Instance, people: dict[str, Any], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.3)
    client = await mastodon_for(instance, "bob")
    listener = Collector()
    handle = await in_thread(client.stream_public, listener, run_async=True, timeout=WAIT)
    try:
        await eventually(subscribed(instance))
        await post(instance, people["ann"], "followers only", Audience.FOLLOWERS)
        public = await post(instance, people["ann"], "for everyone")
        await eventually(lambda: listener.received)
    finally:
        await in_thread(handle.close)
    assert listener.ids() == [str(public)]  # the followers-only post never arrived


async def test_mastodon_py_websocket_handle(instance: Instance, people: dict[str, Any]) -> None:
    client = await mastodon_for(instance, "bob")
    assert await in_thread(client.stream_healthy) is True
    listener = Collector()
    handle = await in_thread(client.stream_open_websocket, listener, timeout=WAIT)
    try:
        await in_thread(handle.subscribe, "hashtag", tag="seeds")
        await eventually(subscribed(instance))
        await post(instance, people["ann"], "untagged")
        tagged = await post(instance, people["ann"], "Swap your #seeds")
        await eventually(lambda: listener.received)
    finally:
        await in_thread(handle.close)
    assert listener.ids() == [str(tagged)]


async def test_followers_only_post_is_not_streamed_to_a_non_follower(
    instance: Instance, people: dict[str, Any]
) -> None:
    bob_user = sse_events(await open_sse(instance, "user", people["bob_token"]))
    bob_public = sse_events(await open_sse(instance, "public", people["bob_token"]))
    cy_user = sse_events(await open_sse(instance, "user", people["cy_token"]))
    await follows.follow(
        instance.ctx, people["bob"], people["cy"]
    )  # bob's home then has cy's posts
    hidden = await post(instance, people["ann"], "followers only", Audience.FOLLOWERS)
    marker = await post(instance, people["cy"], "public marker")

    seen_bob_user = await collect_until(bob_user, update_of(marker))
    seen_bob_public = await collect_until(bob_public, update_of(marker))
    seen_cy = await collect_until(cy_user, update_of(hidden))
    for seen in (seen_bob_user, seen_bob_public):
        ids = [json.loads(d)["id"] for e, d in seen if e == "update"]
        assert ids == [str(marker)], ids
    assert "followers only" in json.loads(seen_cy[-1][1])["content"]


async def test_delete_reaches_the_stream(instance: Instance, people: dict[str, Any]) -> None:
    events = sse_events(await open_sse(instance, "public/local", None))
    post_id = await post(instance, people["ann"], "soon gone")
    await collect_until(events, update_of(post_id))
    await posts.delete_post(instance.ctx, people["ann"], post_id)
    seen = await collect_until(events, lambda e, d: e == "delete")
    assert seen[-1] == ("delete", str(post_id))


async def test_hashtag_stream_and_heartbeat(
    instance: Instance, people: dict[str, Any], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.2)
    events = sse_events(await open_sse(instance, "hashtag", None, tag="Compost"))
    await collect_until(events, lambda e, d: e == "heartbeat")
    await post(instance, people["ann"], "nothing tagged")
    tagged = await post(instance, people["ann"], "Turning the heap #compost")
    seen = await collect_until(events, update_of(tagged))
    assert [json.loads(d)["id"] for e, d in seen if e == "update"] == [str(tagged)]


async def test_user_stream_needs_a_member_token(instance: Instance) -> None:
    resp = await instance.client.get("/api/v1/streaming/user")
    assert resp.status == 401
    resp = await instance.client.get("/api/v1/streaming/hashtag")
    assert resp.status == 400 and "tag" in (await resp.json())["error"]


async def test_websocket_subscribe_notifications_and_protocol_token(
    instance: Instance, people: dict[str, Any]
) -> None:
    session = instance.client.session
    url = instance.url.replace("http://", "ws://") + "/api/v1/streaming"
    # Token as Sec-WebSocket-Protocol, as Mastodon's web app sends it.
    async with session.ws_connect(url + "?stream=user", protocols=(people["bob_token"],)) as ws:
        await ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "roofs"})
        await ws.send_json({"type": "subscribe", "stream": "nonsense"})
        error = await ws.receive_json(timeout=WAIT)
        assert error["status"] == 400 and "unknown stream" in error["error"]
        tagged = await post(instance, people["ann"], "Green #roofs")
        message = await ws.receive_json(timeout=WAIT)
        assert message["event"] == "update" and message["stream"] == ["hashtag", "roofs"]
        assert json.loads(message["payload"])["id"] == str(tagged)

        mention = await post(instance, people["ann"], "@bob have a look")
        kinds = []
        while "notification" not in kinds:
            message = await ws.receive_json(timeout=WAIT)
            kinds.append(message["event"])
            if message["event"] == "notification":
                note = json.loads(message["payload"])
                assert note["type"] == "mention" and note["status"]["id"] == str(mention)
                assert message["stream"] == ["user"]
        await ws.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "roofs"})
        await ws.send_json({"type": "subscribe", "stream": "public"})
        await asyncio.sleep(0.2)
        await post(instance, people["ann"], "more #roofs")
        message = await ws.receive_json(timeout=WAIT)
        assert message["stream"] == ["public"]

    async with session.ws_connect(url + f"?stream=public&access_token={people['cy_token']}") as ws:
        await ws.send_json({"type": "subscribe", "stream": "direct"})
        await asyncio.sleep(0.2)
        direct = await post(instance, people["ann"], "@cy just for you", Audience.DIRECT)
        message = await ws.receive_json(timeout=WAIT)
        assert message["stream"] == ["direct"] and json.loads(message["payload"])["id"] == str(
            direct
        )

    async with session.ws_connect(url) as ws:  # anonymous: public streams only
        await ws.send_json({"type": "subscribe", "stream": "user"})
        error = await ws.receive_json(timeout=WAIT)
        assert error["status"] == 401


async def test_list_stream_and_status_update(instance: Instance, people: dict[str, Any]) -> None:
    from server.services import lists

    list_id = await lists.create_list(instance.ctx, people["cy"], "Roofers")
    await lists.add_accounts(instance.ctx, people["cy"], list_id, [people["ann"]])
    resp = await instance.client.get(
        "/api/v1/streaming/list",
        params={"list": str(list_id)},
        headers={"Authorization": f"Bearer {people['bob_token']}"},
    )
    assert resp.status == 404  # not bob's list
    events = sse_events(await open_sse(instance, "list", people["cy_token"], list=str(list_id)))
    await post(instance, people["bob"], "not in the list")
    in_list = await post(instance, people["ann"], "first draft")
    seen = await collect_until(events, update_of(in_list))
    assert [json.loads(d)["id"] for e, d in seen if e == "update"] == [str(in_list)]

    await posts.edit_post(instance.ctx, people["ann"], in_list, source="second draft")
    seen = await collect_until(events, lambda e, d: e == "status.update")
    edited = json.loads(seen[-1][1])
    assert (
        edited["id"] == str(in_list) and "second draft" in edited["content"] and edited["edited_at"]
    )
