"""Live updates of the web pages: an event stream per feed, and the new cards to insert.

``GET /live/home``, ``/live/feed``, ``/live/c/{handle}`` and ``/live/notifications`` are
``text/event-stream``s over the process's ``StreamHub`` (``server/streams.py``), subscribed with
the page's session: which posts a viewer hears of is decided there, by ``visibility.can_see_post``
and the feed's own timeline rule, exactly as for the streaming API. Only ids travel:

- ``event: post`` / ``data: <id>`` — a new post in this feed (the page counts them in its
  "N new posts" bar);
- ``event: unread`` / ``data: <n>`` — the member's unread notifications (the navigation's count),
  sent on connecting and after every new notification.

``GET /live/home/posts?since_id=N`` (and the same under the other feeds) renders the cards newer
than ``N`` through the same timeline the page reads, so a click on the bar inserts exactly what a
reload would show at the top. Without JavaScript nothing of this is used: the pages are whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.http import live
from server.http.pages import current_user, render, require_user, viewer
from server.http.params import as_id
from server.http.rate_limit import client_address
from server.keys import CTX
from server.services import communities, inbox_notifications, timelines
from server.services.views import load_posts
from server.streams import Stream
from server.visibility import Viewer

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEARTBEAT_SECONDS = 20.0
NEW_POSTS_LIMIT = 40  # more new posts than this: the page is reloaded instead
RETRY_MS = 10_000  # how long a browser waits before reconnecting a dropped stream


@dataclass(frozen=True, slots=True)
class LiveFeed:
    """One feed a page follows live: the stream it hears and the page its cards go back to."""

    stream: Stream | None
    page: str
    community_id: int | None = None


async def _feed(request: web.Request, which: str, who: Viewer) -> LiveFeed:
    if which == "home":
        await require_user(request)  # a visitor is sent to the login page, as on every page
        return LiveFeed(Stream("user"), "/home")
    if which == "feed":
        return LiveFeed(Stream("organisation"), "/feed")
    if which == "notifications":
        await require_user(request)
        return LiveFeed(None, "/notifications")
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        community = await communities.get_by_handle(conn, request.match_info["handle"])
    return LiveFeed(Stream("community", str(community.id)), f"/c/{community.handle}", community.id)


def _which(request: web.Request) -> str:
    return request.match_info.get("which", "community")


@routes.get("/live/{which:home|feed|notifications}")
@routes.get("/live/c/{handle}")
async def live_stream(request: web.Request) -> web.StreamResponse:
    """The page's event stream: new posts of its feed and the member's unread count."""
    await current_user(request)
    who = await viewer(request)
    found = await _feed(request, _which(request), who)
    streams = {found.stream} if found.stream else set()
    if who.actor_id is not None and found.stream != Stream("user"):
        streams.add(Stream("user:notification"))  # the "user" stream brings them already
    owner = f"m:{who.actor_id}" if who.actor_id is not None else "a:" + client_address(request)
    response = web.StreamResponse(headers=live.SSE_HEADERS)
    async with live.subscription(request, owner, who, streams, ids_only=True) as sub:
        await response.prepare(request)
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            if who.actor_id is not None:
                await response.write(await _unread_event(request, who))
            async for message in live.sse_messages(response, sub, HEARTBEAT_SECONDS):
                if message.event == "update":
                    await response.write(f"event: post\ndata: {message.payload}\n\n".encode())
                elif message.event == "notification":
                    await response.write(await _unread_event(request, who))
        except (ConnectionResetError, ConnectionError):
            log.debug("live page stream went away")
    return response


async def _unread_event(request: web.Request, who: Viewer) -> bytes:
    count = await request.app[CTX].db.read(inbox_notifications.unread_shown, who)
    return f"event: unread\ndata: {int(count)}\n\n".encode()


@routes.get("/live/{which:home|feed}/posts")
@routes.get("/live/c/{handle}/posts")
async def new_posts(request: web.Request) -> web.Response:
    """The cards newer than ``since_id`` of the feed, newest first, to insert at its top."""
    ctx = request.app[CTX]
    await current_user(request)
    who = await viewer(request)
    found = await _feed(request, _which(request), who)
    page = timelines.Page(since_id=as_id(request.query.get("since_id")), limit=NEW_POSTS_LIMIT)

    async def load(conn: AsyncConnection) -> tuple[list[int], list]:
        if found.community_id is not None:
            ids = await timelines.community(conn, who, found.community_id, page)
        elif found.page == "/home":
            ids = await timelines.home(conn, who, page)
        else:
            ids = await timelines.organisation(conn, who, page)
        return ids, await load_posts(
            conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain
        )

    ids, posts = await ctx.db.read(load)
    response = await render(
        request,
        "_live_posts.html",
        posts=posts,
        more=len(ids) >= NEW_POSTS_LIMIT,
        back_page=found.page,
        unread=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
