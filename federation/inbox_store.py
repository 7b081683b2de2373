"""The inbox's writes and key look-ups, shared by every request of one app.

``InboxWriter.store`` queues a verified activity; one task writes everything queued in one
transaction (duplicates dropped by ``ON CONFLICT DO NOTHING``, rows inserted with one
``executemany``) and answers each caller once it is committed, so a 202 still means "stored".
While a batch is being written the next one gathers: a group commit whose batches grow with load.

``InboxWriter.key_lookup`` keeps remote keys (key id → public key PEM, owner) in a ``CachedMap``
emptied whenever this process updates or deletes an actor row (a key refresh, a suspension), and
after ``KEY_TTL`` seconds for changes made by other processes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import key_lookup_for
from federation.state import INBOX_HANDLERS
from server import clock
from server.keys import CTX
from server.storage import schema as t
from server.storage.caches import CachedMap, watch_of
from server.storage.rows import dialect_insert

log = logging.getLogger(__name__)

KEY_TTL = 300.0
MAX_BATCH = 200

_Pending = tuple[dict[str, Any], str, "asyncio.Future[int | None]"]


class InboxWriter:
    """Per-app inbox store: batched writes of verified activities, cached key look-ups."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._lookup = key_lookup_for(app)
        db = app[CTX].db
        self._keys: CachedMap[tuple[str, str]] = watch_of(db.engine.sync_engine).cache(
            "remote_keys",
            lambda: CachedMap[tuple[str, str]](KEY_TTL),
            ("actors",),
            ("update", "delete"),
        )

    async def key_lookup(self, key_id: str, refresh: bool) -> tuple[str, str] | None:
        """``federation.actors.key_lookup`` through the cache (``refresh`` always looks again)."""
        if not refresh and (hit := self._keys.get(key_id)) is not None:
            return hit
        generation = self._keys.generation
        found = await self._lookup(key_id, refresh)
        if found is not None:
            self._keys.put(key_id, found, generation)
        return found

    async def store(self, doc: dict[str, Any], signer_uri: str) -> int | None:
        """Store ``doc`` as a ``new`` inbox activity; its row id, or ``None`` for a replayed id."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append((doc, signer_uri, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="koers-inbox-store")
        # The write goes on if this request is cancelled: the sender will retry and be deduplicated.
        return await asyncio.shield(future)

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # let the requests that arrived with this one join its batch
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                ids = await self._write(batch)
            except asyncio.CancelledError:
                for _, _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # every caller of the batch gets the failure (a 500)
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), row_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(row_id)
            self.app[INBOX_HANDLERS].wake()

    async def _write(self, batch: list[_Pending]) -> list[int | None]:
        """Insert the batch's activities in one unit of work; each one's row id or ``None``."""
        stored = await self.app[CTX].db.write(_insert_new, batch, clock.now())  # one hop
        out: list[int | None] = []
        for doc, _, _ in batch:
            out.append(stored.pop(doc["id"], None))  # a second copy of an id gets None
        return out


async def _insert_new(
    conn: AsyncConnection, batch: list[_Pending], now: datetime
) -> dict[str, int]:
    """Insert the batch's activities not seen before; their row ids by activity id."""
    uris = {doc["id"] for doc, _, _ in batch}
    actors = {uri for doc, signer, _ in batch for uri in (signer, doc["actor"])}
    seen = {
        r.uri
        for r in await conn.execute(
            sa.select(t.activities.c.uri).where(t.activities.c.uri.in_(uris))
        )
    }
    ids = dict(
        (r.uri, r.id)
        for r in await conn.execute(
            sa.select(t.actors.c.uri, t.actors.c.id).where(t.actors.c.uri.in_(actors))
        )
    )
    rows: list[dict[str, Any]] = []
    for doc, signer, _ in batch:
        if doc["id"] in seen:
            continue
        seen.add(doc["id"])  # the same id twice in one batch: the second is a replay
        rows.append(
            {
                "uri": doc["id"],
                "direction": "in",
                "type": doc["type"][:40],
                "actor_id": ids.get(doc["actor"]),
                "signer_id": ids.get(signer),
                "document": doc,
                "state": "new",
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    stored: dict[str, int] = {}
    if rows:
        insert = dialect_insert(conn.dialect.name)(t.activities).on_conflict_do_nothing(
            index_elements=["uri"]
        )
        result = await conn.execute(insert.returning(t.activities.c.uri, t.activities.c.id), rows)
        stored = {r.uri: int(r.id) for r in result}
    return stored
