"""The inbox: cheap checks, signature, dedupe, store, 202 — and a worker that hands activities on.

Request path (never blocks on domain work): size → JSON shape → domain policy → HTTP signature →
signer is the actor (or on its host) → dedupe by activity id → ``activities`` row (``new``) → 202.
An embedded object whose id is on another host than the actor is replaced by its id, so the
handler fetches it from its origin instead of believing the copy.

Activities arriving together are stored together (``federation.inbox_store``); the worker
(``federation.inbox_worker``) calls the handler registered for each activity's type
(``InboxHandlers.register``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import context as vocab
from federation import jsonload, policy
from federation.inbox_worker import inbox_loop, process_inbox_once  # noqa: F401  (re-exported)
from federation.signatures import SignatureError, verify_request
from federation.state import INBOX_WRITER, KEYS
from server.config import Settings
from server.keys import CTX
from server.storage import schema as t

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024

Handler = Callable[[web.Application, dict[str, Any], int], Awaitable[None]]
# ``batch(app, lanes)``: each lane a list of stored rows (``id``, ``document``, ``signer_id``) of one
# type, in arrival order; returns per lane how many leading rows it applied (the rest go one by one).
BatchHandler = Callable[[web.Application, list[list[Any]]], Awaitable[list[int]]]
routes = web.RouteTableDef()


class InboxHandlers:
    """Activity type → handler. ``handler(app, activity, signer_actor_id)``; raise ``Ignore`` to skip."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._batches: dict[str, BatchHandler] = {}
        self.event = asyncio.Event()

    def register(self, type_name: str, handler: Handler) -> None:
        """Handle activities of ``type_name`` (``Follow``, ``Create`` …) with ``handler`` (a
        batch handler registered before, for the handler it replaces, is dropped)."""
        self._handlers[type_name] = handler
        self._batches.pop(type_name, None)

    def register_batch(self, type_name: str, batch: BatchHandler) -> None:
        """Apply runs of ``type_name`` activities together with ``batch`` where it can (set-wise
        statements, with the outcome the registered handler would give each); what it leaves goes
        to that handler one by one, as before."""
        self._batches[type_name] = batch

    def batch(self, type_name: str) -> BatchHandler | None:
        """The batch handler of ``type_name``, if one is registered."""
        return self._batches.get(type_name)

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
        doc = jsonload.load(body, max_bytes=MAX_BODY)
    except jsonload.JSONRefused as exc:
        raise web.HTTPBadRequest(text=f"body is not JSON: {exc.message}") from None
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
    refused = policy.refused_if_known(ctx.db.engine.sync_engine, ctx.settings, _host(actor))
    self_delete = doc["type"] == "Delete" and _id_of(doc.get("object")) == actor
    if refused is None or self_delete:  # one unit of work; usually no connection at all
        refused, unknown = await ctx.db.read(_precheck, ctx.settings, actor, self_delete)
        if not refused and unknown:
            # A server announcing the deletion of an account we never knew: its key is gone
            # with it, and there is nothing to delete here (Mastodon sends these to every
            # known host).
            return web.Response(status=202)
    if refused:
        raise web.HTTPForbidden(text="domain not allowed")
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


async def _precheck(
    conn: AsyncConnection, settings: Settings, actor: str, self_delete: bool
) -> tuple[bool, bool]:
    """(is the actor's host refused, is a self-``Delete``'s actor unknown here)."""
    if await policy.is_refused(conn, settings, _host(actor)):
        return True, False
    if not self_delete:
        return False, False
    known = (await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == actor))).first()
    return False, known is None


async def store_incoming(app: web.Application, doc: dict[str, Any], signer_uri: str) -> int | None:
    """Store a verified activity as ``new``; ``None`` when its id was seen before (a replay).

    Activities arriving together are written together (see ``federation.inbox_store``).
    """
    return await app[INBOX_WRITER].store(doc, signer_uri)


def _local_actor(conn: sa.Connection, kind: str, name: str) -> Any:
    q = sa.select(t.actors.c.id).where(
        t.actors.c.username == name, t.actors.c.domain.is_(None), t.actors.c.kind == kind
    )
    return conn.execute(q).first()


async def _local_exists(request: web.Request, kind: str, name: str) -> None:
    if not await request.app[CTX].db.read(_local_actor, kind, name):
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
