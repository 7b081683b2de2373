"""Mastodon streaming: ``/api/v1/streaming`` (WebSocket) and the server-sent-events paths.

The transport only: which messages a connection receives is decided by ``server.streams``
(visibility and stream membership), payloads are the Mastodon entities of ``server.api.present``.

WebSocket: ``?stream=user|public|public:local|hashtag&tag=…|list&list=…|direct`` opens one stream at
once; ``{"type": "subscribe"|"unsubscribe", "stream": …, "tag": …, "list": …}`` messages add and
remove streams; each event is ``{"stream": [...], "event": "update", "payload": "<JSON string>"}``.
The token comes from ``Authorization``, ``?access_token=`` or ``Sec-WebSocket-Protocol`` (as
Mastodon). SSE: ``/api/v1/streaming/user``, ``/user/notification``, ``/public``, ``/public/local``,
``/public/remote``, ``/hashtag?tag=``, ``/hashtag/local?tag=``, ``/list?list=``, ``/direct``, with a
``:thump`` comment as heartbeat. ``/api/v1/streaming/health`` answers ``OK``.

The WebSocket is pinged every ``stream_heartbeat`` seconds and closed when no pong comes back; one
token (or anonymous address) keeps at most ``streams_per_token`` streams open, a further one is a
429.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import jsonload
from server import stream_bus
from server.api import present
from server.api.auth import ApiAuth, authenticate
from server.api.notifications import render_notifications
from server.errors import BadRequest, KoersError, NotAuthenticated, NotFound
from server.http import live
from server.http.rate_limit import client_address
from server.keys import CTX
from server.services import inbox_notifications, lists
from server.streams import PARAM_STREAMS, STREAMS, Stream, StreamHub, Subscription
from server.visibility import Viewer

log = logging.getLogger(__name__)

STREAMS_KEY = live.STREAMS_KEY
HEARTBEAT_SECONDS = 15.0
READ_SCOPES = ("read:statuses", "read:notifications")
USER_STREAMS = ("user", "user:notification", "list", "direct")
SSE_PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
}
SSE_PREFIX = "/api/v1/streaming/"
routes = web.RouteTableDef()


def parse_stream(name: object, tag: object = None, list_id: object = None) -> Stream:
    """A ``Stream`` from client input; a BadRequest names what is wrong."""
    if not isinstance(name, str) or name not in STREAMS:
        raise BadRequest(f"unknown stream; use one of {', '.join(STREAMS)}")
    if name.startswith("hashtag"):
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 100:
            raise BadRequest("a hashtag stream needs a tag")
        return Stream(name, tag.strip().lstrip("#").lower())
    if name == "list":
        if isinstance(list_id, int):
            list_id = str(list_id)
        if not isinstance(list_id, str) or not list_id.isdigit() or len(list_id) > 18:
            raise BadRequest("a list stream needs a list id")
        return Stream(name, list_id)
    assert name not in PARAM_STREAMS
    return Stream(name)


async def _authorise(request: web.Request, auth: ApiAuth, stream: Stream) -> None:
    """User streams need a member's token; a list must be the caller's own."""
    if stream.name not in USER_STREAMS:
        return
    if auth.actor_id is None:
        raise NotAuthenticated("this stream needs an access token of a member")
    if stream.name == "list":
        async with request.app[CTX].db.read() as conn:
            await lists.own_list(conn, auth.actor_id, int(stream.param or 0))


def _renderer(app: web.Application):
    """Payloads as Mastodon entities, rendered for the receiving viewer."""
    ctx = app[CTX]

    async def render(conn: AsyncConnection, viewer: Viewer, kind: str, obj_id: int) -> str | None:
        if kind.startswith("status"):  # "status:<filter context>": the viewer's filters apply there
            context = kind.partition(":")[2] or None
            found = await present.statuses_json(conn, ctx, viewer, [obj_id], context=context)
            return json.dumps(found[0]) if found else None
        try:
            row = await inbox_notifications.get(conn, viewer, obj_id)
        except NotFound:
            return None
        # Koers kinds degrade as in the REST list (a status or a poll), or stay out (Mastodon apps
        # stumble over types they do not know).
        items = await render_notifications(conn, ctx, viewer, [row])
        return json.dumps(items[0]) if items else None

    return render


def _subscription(
    request: web.Request, auth: ApiAuth, streams: set[Stream]
) -> contextlib.AbstractAsyncContextManager[Subscription]:
    """An open subscription; at most ``streams_per_token`` per token (per address when anonymous)."""
    owner = f"t:{auth.token_id}" if auth.token_id is not None else "a:" + client_address(request)
    return live.subscription(request, owner, auth.viewer, streams, whose=" for this token")


# --- server-sent events ---------------------------------------------------------------------------


@routes.get("/api/v1/streaming/health")
async def health(request: web.Request) -> web.Response:
    """Liveness, as Mastodon's streaming server answers it."""
    return web.Response(text="OK", content_type="text/plain")


async def sse(request: web.Request) -> web.StreamResponse:
    """One stream as ``text/event-stream``: ``event:`` / ``data:`` pairs and ``:thump`` heartbeats."""
    auth = await authenticate(request, *READ_SCOPES, required=False)
    which = SSE_PATHS[request.path.removeprefix(SSE_PREFIX).rstrip("/")]
    stream = parse_stream(which, request.query.get("tag"), request.query.get("list"))
    await _authorise(request, auth, stream)
    response = web.StreamResponse(headers=live.SSE_HEADERS)
    async with _subscription(request, auth, {stream}) as sub:
        await response.prepare(request)
        try:
            await response.write(b":)\n\n")
            async for message in live.sse_messages(response, sub, HEARTBEAT_SECONDS):
                await response.write(
                    f"event: {message.event}\ndata: {message.payload}\n\n".encode()
                )
        except (ConnectionResetError, ConnectionError):
            log.debug("SSE client went away")
    return response


for _path in SSE_PATHS:
    routes.get(SSE_PREFIX + _path)(sse)


# --- WebSocket ------------------------------------------------------------------------------------


@routes.get("/api/v1/streaming")
@routes.get("/api/v1/streaming/")
async def websocket(request: web.Request) -> web.StreamResponse:
    """The multiplexed WebSocket stream."""
    auth = await authenticate(request, *READ_SCOPES, required=False)
    initial: set[Stream] = set()
    if "stream" in request.query:
        first = parse_stream(
            request.query["stream"], request.query.get("tag"), request.query.get("list")
        )
        await _authorise(request, auth, first)
        initial.add(first)
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    # a ping every ``stream_heartbeat`` seconds; no pong in time closes the socket
    ws = web.WebSocketResponse(
        heartbeat=request.app[CTX].settings.stream_heartbeat,
        protocols=[p.strip() for p in offered.split(",") if p.strip()],
    )
    if not ws.can_prepare(request).ok:
        raise BadRequest(
            "connect with a WebSocket (or use the /api/v1/streaming/<stream> event-stream paths)"
        )
    async with _subscription(request, auth, initial) as sub:
        await ws.prepare(request)
        sender = asyncio.create_task(_send_loop(ws, sub))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await _control(request, ws, auth, sub, msg.data)
        except ConnectionError:
            log.debug("WebSocket client went away")
        except Exception:  # an upgraded socket cannot carry an HTTP 500: a close frame says it
            log.exception("streaming WebSocket failed")
            await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal server error")
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    return ws


async def _send_loop(ws: web.WebSocketResponse, sub: Subscription) -> None:
    try:
        await _send_messages(ws, sub)
    except ConnectionError:
        log.debug("WebSocket client went away")
    except Exception:  # as in ``websocket``: the socket is closed with a reason, not left open
        log.exception("streaming WebSocket failed while sending")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal server error")


async def _send_messages(ws: web.WebSocketResponse, sub: Subscription) -> None:
    while not ws.closed:
        message = await sub.queue.get()
        await ws.send_str(
            json.dumps(
                {"stream": message.stream, "event": message.event, "payload": message.payload}
            )
        )
        if sub.overflowed:
            await ws.close(code=1013, message=b"too slow")


async def _control(
    request: web.Request, ws: web.WebSocketResponse, auth: ApiAuth, sub: Subscription, raw: str
) -> None:
    """Handle a subscribe/unsubscribe message; mistakes are answered on the socket, never fatal."""
    try:
        data = jsonload.load(raw)
        if not isinstance(data, dict) or data.get("type") not in ("subscribe", "unsubscribe"):
            raise BadRequest('send {"type": "subscribe" or "unsubscribe", "stream": …}')
        stream = parse_stream(data.get("stream"), data.get("tag"), data.get("list"))
        if data["type"] == "subscribe":
            await _authorise(request, auth, stream)
            sub.streams.add(stream)
        else:
            sub.streams.discard(stream)
    except ValueError:
        await ws.send_str(json.dumps({"error": "not valid JSON", "status": 400}))
    except KoersError as exc:
        await ws.send_str(json.dumps({"error": exc.message, "status": exc.status}))


def setup(app: web.Application) -> None:
    """Create the hub, hook it to domain events, run its worker with the app, add the routes."""
    hub = StreamHub(app[CTX], _renderer(app))
    hub.attach()
    live.install(app, hub)

    async def worker(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(worker)
    stream_bus.setup(app, hub.feed)
    app.router.add_routes(routes)
