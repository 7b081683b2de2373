"""Live updates across processes on PostgreSQL: committed domain events travel by LISTEN/NOTIFY.

Every process (web or worker) sends each committed event's kind and ids with
``pg_notify('koers_events', …)``; every process listens on the channel and feeds the events of the
*other* processes to its own ``StreamHub`` (its own events already arrive in-process). A post that a
``koers worker`` process received from another instance is therefore streamed by the web process a
client is connected to, and several web processes serve one event stream.

The same channel tells the other processes which cached tables a commit wrote (a message of kind
``TABLES_WRITTEN`` with their names, sent by the ``WriteWatch`` of ``server/storage/caches.py``):
each process empties its caches of those tables at once and again a second later, since the
notice may overtake the commit it reports.

Only ids travel, never content: each hub renders payloads from the database for its own viewers, so
the visibility rules are applied where the connection is. On SQLite (one process) nothing of this
runs. A lost listener connection (closed, or silent to a keep-alive query) is reopened with
back-off; events in the gap are not replayed (clients re-read timelines after a reconnect, as with
Mastodon's streaming).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server import event_kinds as kinds
from server.events import Event
from server.keys import CTX
from server.storage.caches import WriteWatch, watch_of

if TYPE_CHECKING:  # asyncpg is imported when the bus starts (PostgreSQL only)
    import asyncpg

log = logging.getLogger(__name__)

CHANNEL = "koers_events"
MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10, 30)
CHECK_SECONDS = 1.0  # how often the listening connection is looked at (closed?)
KEEPALIVE_SECONDS = 15.0  # how often it is asked a question (silent?)
KEEPALIVE_TIMEOUT = 10.0  # an answer later than this: the connection is dropped and reopened

Feed = Callable[[Event], Coroutine[Any, Any, None]]
TABLES_WRITTEN = "~tables"  # a bus message, not a domain event: {"tables": [names]}
SETTLE_SECONDS = 1.0  # cached tables are forgotten again this long after the notice


def plain_url(url: str) -> str:
    """The libpq form of a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return "postgresql://" + url.split("://", 1)[1]


def encode(origin: str, event: Event) -> str | None:
    """The NOTIFY payload for ``event``; None when its data is not plain ids or is too large."""
    try:
        payload = json.dumps({"o": origin, "k": event.kind, "d": event.data}, separators=(",", ":"))
    except (TypeError, ValueError):
        payload = json.dumps({"o": origin, "k": event.kind, "d": {}}, separators=(",", ":"))
    return payload if len(payload.encode()) < MAX_PAYLOAD else None


def decode(payload: str) -> tuple[str, Event] | None:
    """(origin, event) from a NOTIFY payload, or None for anything malformed."""
    try:
        data: Any = json.loads(payload)
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("k"), str)
        or not isinstance(data.get("d"), dict)
    ):
        return None
    return str(data.get("o", "")), Event(data["k"], data["d"])


class EventBus:
    """One process's end of the channel: a publishing connection and a listening one."""

    def __init__(self, dsn: str, feed: Feed, watch: WriteWatch | None = None) -> None:
        self.dsn = dsn
        self.feed = feed
        self.watch = watch
        self._loop: asyncio.AbstractEventLoop | None = None
        self.origin = uuid.uuid4().hex
        self._publisher: asyncpg.Connection | None = None
        self._publish_lock = asyncio.Lock()
        self._listener_task: asyncio.Task[None] | None = None
        self._feeding: set[asyncio.Task[None]] = set()
        self._stopped = False
        self.listening = asyncio.Event()

    async def publish(self, event: Event) -> None:
        """Send one committed event to the other processes (after-commit listener)."""
        import asyncpg

        payload = encode(self.origin, event)
        if payload is None:
            log.debug("event %s not sent across processes (data too large or not ids)", event.kind)
            return
        async with self._publish_lock:
            for attempt in range(2):
                if (
                    self._stopped
                ):  # an event committed while the app shuts down opens no new connection
                    return
                try:
                    if self._publisher is None or self._publisher.is_closed():
                        self._publisher = await asyncpg.connect(self.dsn)
                    await self._publisher.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                    return
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    if (
                        self._publisher is not None
                    ):  # a connection we stop using is closed, not dropped
                        self._publisher.terminate()
                    self._publisher = None
                    if attempt:
                        log.warning(
                            "could not send event %s to other processes: %s", event.kind, exc
                        )

    def tables_committed(self, tables: frozenset[str]) -> None:
        """A commit of this process wrote cached ``tables`` (a ``WriteWatch`` listener, called on
        whichever thread committed): tell the other processes."""
        if self._loop is None or self._stopped:
            return
        try:
            self._loop.call_soon_threadsafe(self._send_tables, sorted(tables))
        except RuntimeError:  # the loop has closed: the process is ending
            log.debug("tables %s written while shutting down; not sent", sorted(tables))

    def _send_tables(self, tables: list[str]) -> None:
        task = asyncio.get_running_loop().create_task(
            self.publish(Event(TABLES_WRITTEN, {"tables": tables}))
        )
        self._feeding.add(task)  # a reference until it ends; stop() cancels what is left
        task.add_done_callback(self._fed)

    def _forget(self, tables: list[str]) -> None:
        if self.watch is None:
            return
        self.watch.tables_written(tables)
        asyncio.get_running_loop().call_later(SETTLE_SECONDS, self.watch.tables_written, tables)

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None:
            log.warning("ignored a malformed %s notification", CHANNEL)
            return
        origin, event = decoded
        if origin != self.origin and event.kind == TABLES_WRITTEN:
            tables = event.data.get("tables")
            if isinstance(tables, list):
                self._forget([str(name) for name in tables])
        elif origin != self.origin:
            task = asyncio.get_running_loop().create_task(self.feed(event))
            self._feeding.add(task)  # a reference until it ends (the loop keeps only weak ones)
            task.add_done_callback(self._fed)

    def _fed(self, task: asyncio.Task[None]) -> None:
        self._feeding.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("feeding an event of another process failed", exc_info=task.exception())

    async def _listen(self) -> None:
        import asyncpg

        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn)
                await conn.add_listener(CHANNEL, self._received)
                self.listening.set()
                attempt = 0
                checked = loop.time()
                while not conn.is_closed():
                    await asyncio.sleep(CHECK_SECONDS)
                    if loop.time() - checked >= KEEPALIVE_SECONDS:
                        # A connection the network dropped without closing looks open for ever: ask it.
                        await conn.fetchval("SELECT 1", timeout=KEEPALIVE_TIMEOUT)
                        checked = loop.time()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("listening for events of other processes failed: %s", exc)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()  # at once: a graceful close would wait on a silent connection
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1

    async def start(self) -> None:
        """Start listening (returns once the first LISTEN is in place or failed once)."""
        self._loop = asyncio.get_running_loop()
        self._listener_task = asyncio.create_task(self._listen())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout=10)

    async def stop(self) -> None:
        """Stop listening and close both connections; later events are no longer sent."""
        if self._listener_task is not None:
            self._listener_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener_task
        for task in list(self._feeding):
            task.cancel()
        async with (
            self._publish_lock
        ):  # a publish under way finishes first; none opens a connection after
            self._stopped = True
            if self._publisher is not None and not self._publisher.is_closed():
                await self._publisher.close()
            self._publisher = None


def setup(app: web.Application, feed: Feed) -> None:
    """On PostgreSQL, run an ``EventBus`` with the app: publish committed events, feed others'."""
    ctx = app[CTX]
    if ctx.db.is_sqlite:
        return

    async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
        watch = watch_of(ctx.db.engine.sync_engine)
        bus = EventBus(plain_url(ctx.db.url), feed, watch)
        await bus.start()
        ctx.events.after_commit(kinds.ANY, bus.publish)
        watch.on_commit.append(bus.tables_committed)
        app[BUS] = bus
        yield
        watch.on_commit.remove(bus.tables_committed)
        await bus.stop()

    app.cleanup_ctx.append(bus_ctx)


BUS = web.AppKey("stream_bus", EventBus)
