"""The inbox: cheap checks, signature, dedupe, store, 202 — and a worker that hands activities on.

Request path (never blocks on domain work): size → JSON shape → domain policy → HTTP signature →
signer is the actor (or on its host) → dedupe by activity id → ``activities`` row (``new``) → 202.
An embedded object whose id is on another host than the actor is replaced by its id, so the
handler fetches it from its origin instead of believing the copy.

The worker calls the handler registered for the activity type (``InboxHandlers.register``).
States: ``new → done | ignored | failed``; exceptions are retried with back-off a few times.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web

from federation import context as vocab
from federation import policy
from federation.errors import Ignore
from federation.signatures import SignatureError, verify_request
from federation.state import INBOX_HANDLERS, INBOX_WRITER, KEYS
from federation.worker import run_forever
from server import clock
from server.keys import CTX
from server.storage import schema as t

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
BATCH = 50

Handler = Callable[[web.Application, dict[str, Any], int], Awaitable[None]]
routes = web.RouteTableDef()


class InboxHandlers:
    """Activity type → handler. ``handler(app, activity, signer_actor_id)``; raise ``Ignore`` to skip."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self.event = asyncio.Event()

    def register(self, type_name: str, handler: Handler) -> None:
        """Handle activities of ``type_name`` (``Follow``, ``Create`` …) with ``handler``."""
        self._handlers[type_name] = handler

    def get(self, type_name: str) -> Handler | None:
        """The handler of ``type_name`` (the ActivityPub side registers its one router for every
        type its routing table knows), or None: the activity is ignored."""
        return self._handlers.get(type_name)

    def wake(self) -> None:
        """Ask the processing worker to look now."""
        self.event.set()


def _host(uri: str) -> str:
    return urlsplit(uri).netloc.lower()


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    # Chunked bodies have no Content-Length: count while reading (read(n) may return less than n).
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="body is not JSON") from None
    if not isinstance(doc, dict):
        raise web.HTTPBadRequest(text="body is not a JSON object")
    actor = _id_of(doc.get("actor"))
    if not isinstance(doc.get("id"), str) or not isinstance(doc.get("type"), str) or not actor:
        raise web.HTTPBadRequest(text="an activity needs id, type and actor")
    doc["actor"] = actor
    return vocab.normalise(doc)  # Koers terms of older instances, as ``koers:name``


def _unauthorized(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=f"signature refused: {reason}", headers={"WWW-Authenticate": 'Signature realm="koers"'}
    )


async def receive(request: web.Request) -> web.Response:
    """Accept one activity POSTed to any inbox (see the module docstring for the checks)."""
    app = request.app
    ctx = app[CTX]
    body = await _read_body(request)
    doc = _parse(body)
    actor = doc["actor"]
    async with ctx.db.read() as conn:
        if await policy.is_refused(conn, ctx.settings, _host(actor)):
            raise web.HTTPForbidden(text="domain not allowed")
        if doc["type"] == "Delete" and _id_of(doc.get("object")) == actor:
            known = (
                await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == actor))
            ).first()
            if known is None:
                # A server announcing the deletion of an account we never knew: its key is gone
                # with it, and there is nothing to delete here (Mastodon sends these to every
                # known host).
                return web.Response(status=202)
    try:
        result = await verify_request(
            request.method,
            request.raw_path,
            request.headers,
            body,
            app[INBOX_WRITER].key_lookup,
            keys=app[KEYS],
        )
    except SignatureError as exc:
        log.info("inbox refused %s from %s: %s", doc.get("id"), actor, exc)
        raise _unauthorized(exc.reason) from None
    if result.owner != actor and _host(result.owner) != _host(actor):
        log.info("inbox refused %s: signed by %s for actor %s", doc.get("id"), result.owner, actor)
        raise _unauthorized("key_mismatch")
    if _host(doc["id"]) != _host(actor):
        raise web.HTTPBadRequest(text="activity id and actor are on different hosts")
    obj = doc.get("object")
    if isinstance(obj, dict) and (oid := _id_of(obj)) and _host(oid) != _host(actor):
        doc["object"] = oid  # not believed: the handler fetches it from its origin
    await store_incoming(app, doc, result.owner)
    return web.Response(status=202)


async def store_incoming(app: web.Application, doc: dict[str, Any], signer_uri: str) -> int | None:
    """Store a verified activity as ``new``; ``None`` when its id was seen before (a replay).

    Activities arriving together are written together (see ``federation.inbox_store``).
    """
    return await app[INBOX_WRITER].store(doc, signer_uri)


async def _claim(app: web.Application, now: datetime) -> list[Any]:
    db = app[CTX].db
    q = (
        sa.select(
            t.activities.c.id,
            t.activities.c.type,
            t.activities.c.document,
            t.activities.c.signer_id,
            t.activities.c.attempts,
        )
        .where(
            t.activities.c.direction == "in",
            t.activities.c.state == "new",
            sa.or_(t.activities.c.next_attempt_at.is_(None), t.activities.c.next_attempt_at <= now),
            sa.or_(t.activities.c.locked_until.is_(None), t.activities.c.locked_until < now),
        )
        .order_by(t.activities.c.id)
        .limit(BATCH)
    )
    if not db.is_sqlite:
        q = q.with_for_update(skip_locked=True)
    async with db.write() as conn:
        rows = list(await conn.execute(q))
        if rows:
            await conn.execute(
                sa.update(t.activities)
                .where(t.activities.c.id.in_([r.id for r in rows]))
                .values(locked_until=now + LEASE)
            )
    return rows


async def _set(app: web.Application, row_id: int, **values: Any) -> None:
    async with app[CTX].db.write() as conn:
        await conn.execute(
            sa.update(t.activities)
            .where(t.activities.c.id == row_id)
            .values(locked_until=None, **values)
        )


async def process_inbox_once(app: web.Application, now: datetime | None = None) -> int:
    """One worker cycle: hand each due ``new`` activity to its handler, in arrival order."""
    now = now or clock.now()
    handlers = app[INBOX_HANDLERS]
    rows = await _claim(app, now)
    for row in rows:
        handler = handlers.get(row.type)
        if handler is None:
            log.info("inbox activity %s ignored: no handler for %s", row.id, row.type)
            await _set(app, row.id, state="ignored", last_error=f"no handler for type {row.type}")
            continue
        try:
            await handler(app, row.document, row.signer_id)
        except Ignore as exc:
            log.info("inbox activity %s (%s) ignored: %s", row.id, row.type, exc)
            await _set(app, row.id, state="ignored", last_error=str(exc)[:1000])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recorded with its reason and retried; the worker carries on
            attempts = row.attempts + 1
            log.warning(
                "inbox activity %s (%s) failed, attempt %s: %r",
                row.id,
                row.type,
                attempts,
                exc,
                exc_info=attempts >= MAX_ATTEMPTS,
            )
            await _set(
                app,
                row.id,
                attempts=attempts,
                last_error=f"{type(exc).__name__}: {exc}"[:1000],
                state="failed" if attempts >= MAX_ATTEMPTS else "new",
                next_attempt_at=clock.now() + timedelta(seconds=30 * 4 ** (attempts - 1)),
            )
        else:
            await _set(app, row.id, state="done", last_error=None)
    return len(rows)


async def inbox_loop(app: web.Application, idle_seconds: float = 2.0) -> None:
    """Process the inbox until cancelled; sleep until woken when idle."""
    await run_forever(
        lambda: process_inbox_once(app), app[INBOX_HANDLERS].event, "inbox", idle_seconds
    )


async def _local_exists(request: web.Request, kind: str, name: str) -> None:
    async with request.app[CTX].db.read() as conn:
        found = (
            await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.username == name,
                    t.actors.c.domain.is_(None),
                    t.actors.c.kind == kind,
                )
            )
        ).first()
    if not found:
        raise web.HTTPNotFound()


@routes.post("/inbox")
@routes.post("/actor/inbox")
async def shared_inbox(request: web.Request) -> web.Response:
    """The shared inbox (and the organisation actor's own)."""
    return await receive(request)


@routes.post("/users/{username}/inbox")
async def person_inbox(request: web.Request) -> web.Response:
    """A member's personal inbox."""
    await _local_exists(request, "person", request.match_info["username"])
    return await receive(request)


@routes.post("/communities/{handle}/inbox")
async def community_inbox(request: web.Request) -> web.Response:
    """A community's (Group's) inbox."""
    await _local_exists(request, "group", request.match_info["handle"])
    return await receive(request)
