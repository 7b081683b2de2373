"""What the streaming API and the web pages' live updates share: the process's ``StreamHub`` and
the life of one open stream (a limit per owner, closed on shutdown).

``server/api/streaming.py`` creates the hub and runs its worker; both it and
``server/web/live.py`` open their subscriptions through ``subscription``, so one member (or one
token, or one anonymous address) keeps at most ``streams_per_token`` streams open whichever
surface they come from, and every open stream is cancelled when the application shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from server.errors import RateLimited
from server.keys import CTX
from server.streams import Message, Stream, StreamHub, Subscription
from server.visibility import Viewer

STREAMS_KEY = web.AppKey("streams", StreamHub)
CONNECTIONS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("stream_connections", set)
STOPPING = web.AppKey("streams_stopping", asyncio.Event)
OPEN_STREAMS: web.AppKey[dict[str, int]] = web.AppKey("open_streams_by_token", dict)


@contextlib.asynccontextmanager
async def subscription(
    request: web.Request,
    owner: str,
    viewer: Viewer,
    streams: set[Stream],
    *,
    ids_only: bool = False,
    whose: str = "",
) -> AsyncIterator[Subscription]:
    """An open subscription for the length of the block; ``owner`` names whose streams count
    together (``t:<token id>``, ``a:<address>``, ``m:<member>``); ``whose`` words them in the refusal
    ("for this token"). Over the limit: RateLimited."""
    hub = request.app[STREAMS_KEY]
    settings = request.app[CTX].settings
    open_streams = request.app[OPEN_STREAMS]
    _refuse_when_stopping(request.app)
    if open_streams.get(owner, 0) >= settings.streams_per_token:
        raise RateLimited(
            f"too many open streams{whose} (at most {settings.streams_per_token}); close one first",
            retry_after=max(1, int(settings.stream_heartbeat)),
        )
    open_streams[owner] = open_streams.get(owner, 0) + 1
    try:
        sub = await hub.subscribe(viewer, streams)
    except BaseException:
        _release(open_streams, owner)
        raise
    sub.ids_only = ids_only
    task = asyncio.current_task()
    if task is None:  # a request handler always runs in a task
        _release(open_streams, owner)
        hub.unsubscribe(sub)
        raise RuntimeError("a stream subscription outside a task")
    request.app[CONNECTIONS].add(task)
    try:
        _refuse_when_stopping(request.app)  # the stop began while it subscribed
        yield sub
    finally:
        hub.unsubscribe(sub)
        request.app[CONNECTIONS].discard(task)
        _release(open_streams, owner)


SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


async def sse_messages(
    response: web.StreamResponse, sub: Subscription, heartbeat: float
) -> AsyncIterator[Message]:
    """The subscription's messages, with a ``:thump`` comment written after ``heartbeat`` quiet
    seconds; ends when the subscription overflowed (a client too slow to keep up)."""
    while not sub.overflowed:
        try:
            yield await asyncio.wait_for(sub.queue.get(), heartbeat)
        except TimeoutError:
            await response.write(b":thump\n\n")


def _refuse_when_stopping(app: web.Application) -> None:
    """A stream asked for once the server stops (on a kept-alive connection) is refused: the
    streams open then were ended, and a new one would hold the stop until it ends by itself."""
    if app[STOPPING].is_set():
        raise web.HTTPServiceUnavailable(
            text="the server is stopping; connect again in a moment",
            headers={"Retry-After": "5"},
        )


def _release(open_streams: dict[str, int], owner: str) -> None:
    left = open_streams.get(owner, 1) - 1
    if left > 0:
        open_streams[owner] = left
    else:
        open_streams.pop(owner, None)


def install(app: web.Application, hub: StreamHub) -> None:
    """Keep the hub on the application and cancel every open stream at shutdown."""
    app[STREAMS_KEY] = hub
    app[CONNECTIONS] = set()
    app[OPEN_STREAMS] = {}
    app[STOPPING] = asyncio.Event()

    async def close_streams(app: web.Application) -> None:
        app[STOPPING].set()
        for task in app[CONNECTIONS].copy():
            task.cancel()

    app.on_shutdown.append(close_streams)
