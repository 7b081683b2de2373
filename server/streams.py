"""Live updates: an in-process hub that turns domain events into per-connection stream messages.

Flow: services emit domain events (``post.created`` …); after the commit the hub's listener puts
them on one queue, and a single worker task decides, for every open subscription, whether its
viewer may receive each post and whether the post belongs to the subscribed stream, then renders
the payload once per viewer and puts a ``Message`` on that subscription's own queue. The request
that caused the event never waits for streaming.

Who receives what is decided by the same rules as the REST timelines, evaluated for one post id:
``user`` is ``timelines.home``, ``public`` / ``public:local`` / ``public:remote`` are
``timelines.public``, ``hashtag`` is ``timelines.tag``, ``list`` follows the list timeline,
``direct`` is a direct post the viewer may see. Every post is first checked with
``visibility.can_see_post``. Deletions of posts a viewer could not see are not announced to them.
Notifications (rows written by the services) are picked up after every committed event.

Across processes (several web processes and workers on one PostgreSQL): ``server/stream_bus.py``
feeds the committed events of the other processes into ``StreamHub.feed`` through LISTEN/NOTIFY;
payloads are rendered from the database here, so nothing else changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import event_kinds as kinds
from server.context import Context
from server.events import Event
from server.services import timelines
from server.services.timelines import Page
from server.storage import schema as t
from server.visibility import Audience, Viewer, can_see_post, listed_for

log = logging.getLogger(__name__)

# Stream names a client may subscribe to; those in PARAM_STREAMS need a parameter (tag or list id).
STREAMS = (
    "user",
    "user:notification",
    "public",
    "public:local",
    "public:remote",
    "hashtag",
    "hashtag:local",
    "list",
    "direct",
)
PARAM_STREAMS = ("hashtag", "hashtag:local", "list")
# Streams only the web pages subscribe to (``server/web/live.py``), never offered to API clients:
# a local community's feed (the parameter is its id) and the organisation feed (``/feed``).
WEB_STREAMS = ("community", "organisation")
POST_EVENTS = {
    kinds.POST_CREATED: "update",
    kinds.REBLOG_CREATED: "update",
    kinds.POST_UPDATED: "status.update",
}
QUEUE_SIZE = 200
REMEMBERED_POSTS = 500
# On PostgreSQL, transactions may commit in another order than their ids were drawn; looking back
# this many ids below the newest one sent catches a notification that committed late.
NOTIFICATION_SLACK = 100

# (conn, viewer, kind, id) -> the JSON payload string, or None when it cannot be shown.
# ``kind`` is "status:<filter context>" (a post id) or "notification" (a notification id).
Renderer = Callable[[AsyncConnection, Viewer, str, int], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Stream:
    """One subscribed stream: its name and, for hashtag and list streams, the tag or list id."""

    name: str
    param: str | None = None

    def label(self) -> list[str]:
        """How Mastodon names the stream in messages: ``["hashtag", "tag"]`` or ``["user"]``."""
        return [self.name, self.param] if self.param is not None else [self.name]


@dataclass(frozen=True, slots=True)
class Message:
    """One message for a client: ``event`` (update, delete, notification, status.update), its payload
    (a JSON string, or the id for delete) and the stream it came from."""

    event: str
    payload: str
    stream: list[str]


@dataclass(eq=False)
class Subscription:
    """One client connection: who is watching, which streams, and its outgoing queue."""

    viewer: Viewer
    streams: set[Stream] = field(default_factory=set)
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    sent_posts: OrderedDict[int, None] = field(default_factory=OrderedDict)
    notification_floor: int = 0
    sent_notifications: set[int] = field(default_factory=set)
    overflowed: bool = False
    # The web pages' subscriptions want ids, not Mastodon entities: their page loads the cards.
    ids_only: bool = False

    def put(self, message: Message) -> None:
        """Queue a message; a client too slow to keep up is marked and disconnected by its transport."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    def remember(self, post_id: int) -> None:
        self.sent_posts[post_id] = None
        while len(self.sent_posts) > REMEMBERED_POSTS:
            self.sent_posts.popitem(last=False)

    @property
    def wants_notifications(self) -> bool:
        return any(s.name in ("user", "user:notification") for s in self.streams)


class StreamHub:
    """Subscriptions of this process and the worker that fans events out to them."""

    def __init__(self, ctx: Context, render: Renderer) -> None:
        self.ctx = ctx
        self.render = render
        self.subscriptions: set[Subscription] = set()
        self._events: asyncio.Queue[Event] = asyncio.Queue()

    def attach(self) -> None:
        """Listen to every committed domain event."""
        self.ctx.events.after_commit(kinds.ANY, self.feed)

    async def feed(self, event: Event) -> None:
        """Accept an event (from this process, or later from LISTEN/NOTIFY); processed in the worker."""
        if self.subscriptions:
            self._events.put_nowait(event)

    async def subscribe(self, viewer: Viewer, streams: set[Stream] | None = None) -> Subscription:
        """Open a subscription; notifications older than this moment are not replayed."""
        sub = Subscription(viewer, set(streams or ()))
        if viewer.actor_id is not None:
            async with self.ctx.db.read() as conn:
                sub.notification_floor = (
                    await conn.execute(
                        sa.select(sa.func.coalesce(sa.func.max(t.notifications.c.id), 0))
                    )
                ).scalar_one()
        self.subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscription (the connection closed)."""
        self.subscriptions.discard(sub)

    async def run(self) -> None:
        """The worker: process events one by one until cancelled; one bad event never stops it."""
        while True:
            event = await self._events.get()
            try:
                await self.publish(event)
            except Exception:  # a failed fan-out loses one live update, never the stream itself
                log.exception("streaming %s failed", event.kind)

    async def publish(self, event: Event) -> None:
        """Deliver one domain event to every subscription that may and wants to receive it."""
        subs = list(self.subscriptions)
        if not subs:
            return
        async with self.ctx.db.read() as conn:
            post_id = event.data.get("post_id")
            if event.kind in POST_EVENTS and isinstance(post_id, int):
                await self._post(conn, subs, POST_EVENTS[event.kind], post_id)
            elif event.kind == kinds.POST_DELETED and isinstance(post_id, int):
                await self._deleted(conn, subs, post_id)
            await self._notifications(conn, [s for s in subs if s.wants_notifications])

    async def _post(
        self, conn: AsyncConnection, subs: list[Subscription], event: str, post_id: int
    ) -> None:
        visible: dict[Viewer, bool] = {}
        payloads: dict[tuple[Viewer, str], str | None] = {}
        for sub in subs:
            if sub.viewer not in visible:
                visible[sub.viewer] = await can_see_post(conn, sub.viewer, post_id)
            if not visible[sub.viewer]:
                continue
            for stream in sorted(sub.streams, key=lambda s: (s.name, s.param or "")):
                if not await in_stream(conn, sub.viewer, stream, post_id):
                    continue
                if sub.ids_only:
                    sub.put(Message(event, str(post_id), stream.label()))
                    sub.remember(post_id)
                    continue
                # Rendered once per viewer and filter context (a "hide" filter there leaves it out).
                key = (sub.viewer, filter_context(stream))
                if key not in payloads:
                    payloads[key] = await self.render(conn, sub.viewer, f"status:{key[1]}", post_id)
                payload = payloads[key]
                if payload is not None:
                    sub.put(Message(event, payload, stream.label()))
                    sub.remember(post_id)

    async def _deleted(self, conn: AsyncConnection, subs: list[Subscription], post_id: int) -> None:
        row = (
            await conn.execute(
                sa.select(t.posts.c.audience, t.posts.c.author_id).where(t.posts.c.id == post_id)
            )
        ).first()
        open_to_all = row is not None and Audience(row.audience).open_to_all
        for sub in subs:
            if not sub.streams or sub.streams == {Stream("user:notification")}:
                continue
            if (
                open_to_all
                or post_id in sub.sent_posts
                or (row is not None and row.author_id == sub.viewer.actor_id)
            ):
                stream = min(sub.streams, key=lambda s: (s.name, s.param or ""))
                sub.put(Message("delete", str(post_id), stream.label()))

    async def _notifications(self, conn: AsyncConnection, subs: list[Subscription]) -> None:
        if not subs:
            return
        by_actor: dict[int, list[Subscription]] = {}
        for sub in subs:
            if sub.viewer.actor_id is not None:
                by_actor.setdefault(sub.viewer.actor_id, []).append(sub)
        floor = min(s.notification_floor for s in subs)
        rows = list(
            await conn.execute(
                sa.select(t.notifications.c.id, t.notifications.c.actor_id)
                .where(t.notifications.c.id > floor, t.notifications.c.actor_id.in_(list(by_actor)))
                .order_by(t.notifications.c.id)
            )
        )
        for row in rows:
            fresh = [
                s
                for s in by_actor.get(row.actor_id, [])
                if row.id > s.notification_floor and row.id not in s.sent_notifications
            ]
            if not fresh:
                continue
            rendered = [s for s in fresh if not s.ids_only]
            payload = (
                await self.render(conn, rendered[0].viewer, "notification", row.id)
                if rendered
                else None
            )
            for sub in fresh:
                sub.sent_notifications.add(row.id)
                if sub.ids_only:
                    sub.put(Message("notification", str(row.id), ["user:notification"]))
                elif payload is not None:
                    stream = min(
                        (s for s in sub.streams if s.name.startswith("user")), key=lambda s: s.name
                    )
                    sub.put(Message("notification", payload, stream.label()))
        for sub in subs:
            if sub.sent_notifications:
                sub.notification_floor = max(
                    sub.notification_floor, max(sub.sent_notifications) - NOTIFICATION_SLACK
                )
                sub.sent_notifications = {
                    i for i in sub.sent_notifications if i > sub.notification_floor
                }


def filter_context(stream: Stream) -> str:
    """The filter context of a stream, as of the timeline it mirrors: public ones, or home."""
    return "public" if stream.name.startswith(("public", "hashtag")) else "home"


async def in_stream(conn: AsyncConnection, viewer: Viewer, stream: Stream, post_id: int) -> bool:
    """Does this post belong to the stream, by the rule of the matching REST timeline?"""
    window = Page(max_id=post_id + 1, since_id=post_id - 1, limit=1)
    name = stream.name
    if name == "user":
        return viewer.actor_id is not None and await timelines.home(conn, viewer, window) == [
            post_id
        ]
    if name.startswith("public"):
        found = await timelines.public(
            conn, viewer, window, local=name == "public:local", remote=name == "public:remote"
        )
        return found == [post_id]
    if name.startswith("hashtag") and stream.param:
        return await timelines.tag(
            conn, viewer, stream.param, window, local=name == "hashtag:local"
        ) == [post_id]
    if name == "list" and stream.param and viewer.actor_id is not None:
        return await _in_list(conn, viewer, int(stream.param), post_id)
    if name == "community" and stream.param:
        return await timelines.community(conn, viewer, int(stream.param), window) == [post_id]
    if name == "organisation":
        return await timelines.organisation(conn, viewer, window) == [post_id]
    if name == "direct":
        audience = (
            await conn.execute(sa.select(t.posts.c.audience).where(t.posts.c.id == post_id))
        ).scalar()
        return audience == Audience.DIRECT.value
    return False


async def _in_list(conn: AsyncConnection, viewer: Viewer, list_id: int, post_id: int) -> bool:
    """The list timeline's rule: a community list shows the community feed, others their members' posts."""
    row = (
        await conn.execute(
            sa.select(t.lists).where(t.lists.c.id == list_id, t.lists.c.owner_id == viewer.actor_id)
        )
    ).first()
    if row is None:
        return False
    window = Page(max_id=post_id + 1, since_id=post_id - 1, limit=1)
    if row.community_id is not None:
        return await timelines.community(conn, viewer, row.community_id, window) == [post_id]
    members = sa.select(t.list_members.c.actor_id).where(t.list_members.c.list_id == row.id)
    found = await conn.execute(
        sa.select(t.posts.c.id).where(
            t.posts.c.id == post_id, t.posts.c.author_id.in_(members), listed_for(viewer)
        )
    )
    return found.first() is not None
