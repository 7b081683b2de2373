"""Live updates of the pages (``server/web/live.py``): each feed's event stream names the new posts
its viewer may see and no others, the unread count follows notifications, and the new cards come
from the same timeline as the page."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from server.http import live
from server.services import communities, follows, posts
from server.visibility import Audience
from tests.api.test_streaming import WAIT, collect_until, sse_events
from tests.conftest import Instance


async def read_until(resp: aiohttp.ClientResponse, done: Any) -> list[tuple[str, str]]:
    return await collect_until(sse_events(resp), done)


async def subscribed(instance: Instance, count: int = 1) -> None:
    hub = instance.app[live.STREAMS_KEY]
    for _ in range(int(WAIT * 10)):
        if len(hub.subscriptions) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the page's stream never subscribed")


async def open_live(client: TestClient, path: str) -> aiohttp.ClientResponse:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/event-stream"
    return resp


async def say(instance: Instance, actor_id: int, text: str, **kw: Any) -> int:
    audience = kw.pop("audience", Audience.PUBLIC)
    return await posts.create_post(
        instance.ctx, actor_id, posts.Draft(source=text, audience=audience, **kw)
    )


@pytest.fixture
async def people(instance: Instance) -> dict[str, Any]:
    """ann writes; cy follows ann and reads her home page."""
    ann = await instance.create_member("ann")
    cy = await instance.create_member("cy")
    await follows.follow(instance.ctx, cy.actor_id, ann.actor_id)
    return {"ann": ann.actor_id, "cy": cy.actor_id, "cy_client": await instance.login("cy")}


async def test_home_stream_names_new_posts_and_the_unread_count(
    instance: Instance, people: dict[str, Any]
) -> None:
    resp = await open_live(people["cy_client"], "/live/home")
    await subscribed(instance)
    direct_to_someone_else = await say(
        instance, people["ann"], "only for me", audience=Audience.DIRECT
    )
    first = await say(instance, people["ann"], "hello followers", audience=Audience.FOLLOWERS)
    seen = await read_until(resp, lambda e, d: e == "post" and d == str(first))
    assert ("unread", "0") in seen  # on connecting
    assert ("post", str(direct_to_someone_else)) not in seen
    mention = await say(instance, people["ann"], "hi @cy")
    seen = await read_until(resp, lambda e, d: e == "unread" and d != "0")
    assert ("post", str(mention)) in seen and seen[-1] == ("unread", "1")
    resp.close()


async def test_the_organisation_feed_streams_to_visitors_what_they_may_see(
    instance: Instance, people: dict[str, Any]
) -> None:
    visitor = await instance.new_client()
    resp = await open_live(visitor, "/live/feed")
    await subscribed(instance)
    members_only = await say(instance, people["ann"], "for members", audience=Audience.MEMBERS)
    public = await say(instance, people["ann"], "for everyone")
    seen = await read_until(resp, lambda e, d: e == "post" and d == str(public))
    assert ("post", str(members_only)) not in seen
    assert not any(e == "unread" for e, _ in seen)  # a visitor has no notifications
    resp.close()


async def test_a_community_stream_and_its_new_cards(
    instance: Instance, people: dict[str, Any]
) -> None:
    garden = await communities.create_community(
        instance.ctx, people["ann"], handle="garden", name="Garden", purpose_text="Grow food."
    )
    older = await say(instance, people["ann"], "older news", community_id=garden.id)
    resp = await open_live(people["cy_client"], "/live/c/garden")
    await subscribed(instance)
    elsewhere = await say(instance, people["ann"], "not in the garden")
    inside = await say(instance, people["ann"], "seedlings are up", community_id=garden.id)
    seen = await read_until(resp, lambda e, d: e == "post" and d == str(inside))
    assert ("post", str(elsewhere)) not in seen
    resp.close()

    cards = await people["cy_client"].get(f"/live/c/garden/posts?since_id={older}")
    html = await cards.text()
    assert cards.status == 200 and "data-live-posts" in html
    assert "seedlings are up" in html and "older news" not in html
    assert "not in the garden" not in html
    # each card's buttons come back to the community page, not to this fragment
    assert 'name="back" value="/c/garden#p' in html


async def test_new_cards_follow_the_viewers_visibility(
    instance: Instance, people: dict[str, Any]
) -> None:
    await say(instance, people["ann"], "seen by followers", audience=Audience.FOLLOWERS)
    visitor = await instance.new_client()
    html = await (await visitor.get("/live/feed/posts?since_id=0")).text()
    assert "seen by followers" not in html
    member = await (await people["cy_client"].get("/live/home/posts?since_id=0")).text()
    assert "seen by followers" in member
    refused = await visitor.get("/live/home/posts", allow_redirects=False)
    assert refused.status in (401, 302)
    assert (await visitor.get("/live/home", allow_redirects=False)).status in (401, 302)


async def test_the_navigation_shows_the_unread_count_and_feeds_carry_their_stream(
    instance: Instance, people: dict[str, Any]
) -> None:
    await say(instance, people["ann"], "hi @cy")
    home = await (await people["cy_client"].get("/home")).text()
    assert 'data-live="/live/home"' in home
    assert '<span data-unread-n>1</span><span class="visually-hidden"> unread</span>' in home
    older = await (await people["cy_client"].get("/home?max_id=1")).text()
    assert "data-live=" not in older  # an older page is not live
    feed = await (await instance.new_client()).get("/feed")
    assert 'data-live="/live/feed"' in await feed.text()


async def test_a_stop_ends_open_streams_and_refuses_new_ones(
    instance: Instance, people: dict[str, Any]
) -> None:
    """At shutdown every open stream ends at once, and one asked for after that (on a kept-alive
    connection) is refused with 503 and Retry-After, not held open until it ends by itself."""
    visitor = instance.client
    resp = await open_live(visitor, "/live/feed")
    await subscribed(instance)
    (close_streams,) = [h for h in instance.app.on_shutdown if h.__name__ == "close_streams"]
    await close_streams(instance.app)
    # the stream ends now (cut off mid-stream), not at its next heartbeat: wait_for would time out
    with contextlib.suppress(aiohttp.ClientPayloadError):
        await asyncio.wait_for(resp.content.read(), WAIT)
    again = await visitor.get("/live/feed")
    assert again.status == 503 and again.headers["Retry-After"] == "5"
    assert "stopping" in await again.text()
