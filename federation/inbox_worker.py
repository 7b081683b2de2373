"""The inbox worker: claims stored activities and hands each to the handler of its type.

A cycle claims up to ``BATCH`` due activities with a lease and splits them into lanes: activities
that share an actor or an object (the object's id, an inner activity's object, a target) are in
one lane, applied one after the other in arrival order; lanes run side by side (at most
``LANES`` at a time), since their handlers touch different rows. First, where a type has a batch
handler (``InboxHandlers.register_batch``: plain Creates of posts), the leading run of that type
in every lane is applied together in set-wise statements; what it does not take, and the rest of
each lane, goes one by one. The handlers' write transactions share their commits (a group
commit, ``server.storage.group_commit``: one at a time, each in a savepoint, consecutive ones
committed together); a commit that fails sends every activity whose writes it held back to be
retried. The cycle's outcomes are written as the scope's last block, so they commit with its
last writes (after a failed commit, again on their own). Delivery stays at least once: a crash
before that commit means the cycle's activities are applied again once their lease expires
(handlers already tolerate that: a crash between a handler's commit and its row's update did
the same).
States: ``new → done | ignored | failed``; exceptions are retried with back-off a few times, but
a permanent federation failure (``errors.is_permanent``) fails at once with its reason.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from federation.batch import claim, updates_by_shape
from federation.errors import Ignore, is_permanent
from federation.state import INBOX_HANDLERS
from federation.worker import run_forever
from server import clock
from server.keys import CTX
from server.storage import group_commit
from server.storage import schema as t

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
BATCH = 200  # a cycle's claim: plain Creates are applied set-wise, so larger batches cost less each
LANES = 8


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [i for v in value for i in _ids(v)]
    if isinstance(value, dict):
        value = value.get("id")
    return [value] if isinstance(value, str) and value else []


def touches(doc: Any) -> set[str]:
    """The ids an activity reads or changes: its actor, object, target, an inner object's object."""
    if not isinstance(doc, dict):
        return set()
    found = (
        set(_ids(doc.get("actor"))) | set(_ids(doc.get("object"))) | set(_ids(doc.get("target")))
    )
    inner = doc.get("object")
    if isinstance(inner, dict):
        found |= set(_ids(inner.get("object"))) | set(_ids(inner.get("target")))
        found |= set(_ids(inner.get("inReplyTo")))
    return found


def lanes(rows: list[Any]) -> list[list[Any]]:
    """``rows`` split into lanes of rows sharing an id (transitively), each in arrival order."""
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, row in enumerate(rows):
        for key in touches(row.document):
            if key in first_with:
                parent[root(i)] = root(first_with[key])
            else:
                first_with[key] = i
    grouped: dict[int, list[Any]] = {}
    for i, row in enumerate(rows):
        grouped.setdefault(root(i), []).append(row)
    return list(grouped.values())


_NOW = sa.bindparam("now", type_=t.activities.c.next_attempt_at.type)
_DUE = (
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
        sa.or_(t.activities.c.next_attempt_at.is_(None), t.activities.c.next_attempt_at <= _NOW),
        sa.or_(t.activities.c.locked_until.is_(None), t.activities.c.locked_until < _NOW),
    )
    .order_by(t.activities.c.id)
    .limit(sa.bindparam("batch", type_=sa.Integer))
)


async def _claim(app: web.Application, now: datetime) -> list[Any]:
    return await claim(app[CTX].db, t.activities, _DUE, now + LEASE, {"now": now, "batch": BATCH})


async def _apply(app: web.Application, row: Any) -> dict[str, Any]:
    """Run one activity's handler; the new values of its row."""
    handler = app[INBOX_HANDLERS].get(row.type)
    if handler is None:
        log.info("inbox activity %s ignored: no handler for %s", row.id, row.type)
        return {"state": "ignored", "last_error": f"no handler for type {row.type}"}
    try:
        await handler(app, row.document, row.signer_id)
    except Ignore as exc:
        log.info("inbox activity %s (%s) ignored: %s", row.id, row.type, exc)
        return {"state": "ignored", "last_error": str(exc)[:1000]}
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # recorded with its reason and retried; the worker carries on
        return _failed(row, exc)
    return {"state": "done", "last_error": None}


def _failed(row: Any, exc: BaseException) -> dict[str, Any]:
    """The new values of a row whose activity failed with ``exc``: retried with back-off, or
    failed for good (after ``MAX_ATTEMPTS``, or at once when ``exc`` is permanent)."""
    attempts = row.attempts + 1
    if is_permanent(exc):  # never processable (a fetched object that does not parse …)
        log.info("inbox activity %s (%s) dropped: %s", row.id, row.type, exc)
        return {"attempts": attempts, "state": "failed", "last_error": f"dropped: {exc}"[:1000]}
    log.warning(
        "inbox activity %s (%s) failed, attempt %s: %r",
        row.id,
        row.type,
        attempts,
        exc,
        exc_info=attempts >= MAX_ATTEMPTS,
    )
    return {
        "attempts": attempts,
        "last_error": f"{type(exc).__name__}: {exc}"[:1000],
        "state": "failed" if attempts >= MAX_ATTEMPTS else "new",
        "next_attempt_at": clock.now() + timedelta(seconds=30 * 4 ** (attempts - 1)),
    }


async def _record(app: web.Application, outcomes: dict[int, dict[str, Any]]) -> None:
    """Write the cycle's outcomes in one transaction, one ``executemany`` per set of columns."""
    await app[CTX].db.write(_write_outcomes, updates_by_shape(t.activities, outcomes.items()))


def _write_outcomes(
    conn: sa.Connection, statements: list[tuple[Any, list[dict[str, Any]]]]
) -> None:
    for statement, params in statements:
        conn.execute(statement, params)


async def _apply_batches(
    app: web.Application, cycle: list[list[Any]], applied: set[int]
) -> list[list[Any]]:
    """Apply the head of each lane set-wise where its type has a batch handler: for each type, the
    lanes' leading runs of it go to the handler together (lanes touch different objects, so their
    heads may be applied in one go; what follows a head in its lane waits for it). The lanes left
    to apply one by one are returned (each in order); ``applied`` gets the ids applied here.

    A batch that fails is rolled back (its savepoint) and its activities go one by one."""
    handlers = app[INBOX_HANDLERS]
    heads: dict[str, list[int]] = {}
    for n, lane in enumerate(cycle):
        if handlers.batch(lane[0].type) is not None:
            heads.setdefault(lane[0].type, []).append(n)
    taken = [0] * len(cycle)
    for kind, members in heads.items():
        batch = handlers.batch(kind)
        assert batch is not None
        runs = [_leading(cycle[n], kind) for n in members]
        group_commit.set_key(frozenset(row.id for run in runs for row in run))
        try:
            counts = await batch(app, runs)
        except asyncio.CancelledError:
            raise
        except Exception:  # rolled back: each of them is applied (and judged) on its own below
            log.warning(
                "a batch of %s %s activities failed; applying them one by one",
                sum(map(len, runs)),
                kind,
                exc_info=True,
            )
            continue
        for n, run, count in zip(members, runs, counts, strict=True):
            taken[n] = count
            applied.update(row.id for row in run[:count])
    return [lane[n:] for lane, n in zip(cycle, taken, strict=True)]


def _leading(lane: list[Any], kind: str) -> list[Any]:
    """The rows of type ``kind`` at the head of ``lane``."""
    end = next((n for n, row in enumerate(lane) if row.type != kind), len(lane))
    return lane[:end]


def _lost_ids(lost: set[Any], batched: set[int]) -> set[Any]:
    """The activity ids among a scope's lost keys (a batch's key names all of its activities;
    only those it applied lost writes)."""
    out: set[Any] = set()
    for key in lost:
        out.update(batched & key if isinstance(key, frozenset) else (key,))
    return out


async def process_inbox_once(app: web.Application, now: datetime | None = None) -> int:
    """One worker cycle: apply each due ``new`` activity (lanes side by side, each in order),
    their writes grouped into shared commits (``server.storage.group_commit``)."""
    now = now or clock.now()
    rows = await _claim(app, now)
    if not rows:
        return 0
    outcomes: dict[int, dict[str, Any]] = {}
    limit = asyncio.Semaphore(LANES)

    async def run(lane: list[Any]) -> None:
        async with limit:
            for row in lane:
                group_commit.set_key(row.id)
                outcomes[row.id] = await _apply(app, row)

    db = app[CTX].db
    scope = db.group_commit()
    batched: set[int] = set()
    recorded = False
    try:
        try:
            async with scope:
                rest = await asyncio.create_task(_apply_batches(app, lanes(rows), batched))
                for row_id in batched:
                    outcomes[row_id] = {"state": "done", "last_error": None}
                await asyncio.gather(*(run(lane) for lane in rest if lane))
                # The outcomes as the scope's last block: they commit with the last writes.
                async with db.write() as conn:
                    changes = updates_by_shape(t.activities, outcomes.items())
                    await conn.run_sync(_write_outcomes, changes)
            recorded = not scope.lost
        except Exception:  # the scope's last commit failed: its activities are retried below
            if not scope.lost:
                raise
        lost = _lost_ids(scope.lost, batched)
        for row in rows:  # applied, but their writes went with a commit that failed
            if row.id in lost and scope.failure is not None:
                outcomes[row.id] = _failed(row, scope.failure)
    finally:  # cancelled mid-cycle: what was applied is recorded, the rest waits for its lease
        if outcomes and not recorded:  # (again, when a commit failed: its rows are retried)
            await asyncio.shield(_record(app, outcomes))
    return len(rows)


async def inbox_loop(app: web.Application, idle_seconds: float = 2.0) -> None:
    """Process the inbox until cancelled; sleep until woken when idle."""
    await run_forever(
        lambda: process_inbox_once(app), app[INBOX_HANDLERS].event, "inbox", idle_seconds
    )
