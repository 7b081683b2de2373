"""The persistent delivery queue: one ``deliveries`` row per (activity, inbox).

``enqueue`` writes the rows inside the caller's transaction; a worker claims due rows with a lease
(``locked_until``; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), signs with the actor's key and POSTs.
States: ``new → sent | failed | skipped``. Rows are the truth, so a restart loses nothing: a
delivery that was in flight when the process died is retried once its lease expires.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import hosts, policy
from federation.batch import claim, updates_by_shape
from federation.errors import FetchError
from federation.fetch import Fetcher, post_headers
from federation.signing import Signer, SignJob
from federation.state import DELIVERY
from federation.worker import run_forever
from server import clock
from server.config import Settings
from server.storage import schema as t
from server.storage.db import Database
from server.storage.prepared import rows
from server.storage.rows import dialect_insert

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 100
PER_HOST = 4
PIPELINE = 3  # batches in flight at once, each being read, signed, sent or recorded
FIRST_DELAY = 60.0  # seconds; doubled on each failure
MAX_DELAY = 12 * 3600.0
GIVE_UP_AFTER = timedelta(days=3)
# While an unavailable host is probed, its other deliveries wait this long instead of being skipped.
PROBE_WAIT = timedelta(minutes=1)
MAX_RETRY_AFTER = 24 * 3600.0
# 4xx answers that may succeed later; any other 4xx is final.
RETRYABLE_4XX = (401, 408, 429)


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased (how ``domain`` columns name hosts)."""
    return urlsplit(url).netloc.lower()


async def inboxes_for(conn: AsyncConnection, actor_ids: Iterable[int]) -> list[str]:
    """Inboxes of remote actors, using each host's shared inbox when it has one (deduplicated)."""
    ids = list(set(actor_ids))
    if not ids:
        return []
    rows = await conn.execute(
        sa.select(t.actors.c.inbox, t.actors.c.shared_inbox).where(
            t.actors.c.id.in_(ids), t.actors.c.domain.is_not(None), t.actors.c.suspended.is_(False)
        )
    )
    found = {r.shared_inbox or r.inbox for r in rows if r.shared_inbox or r.inbox}
    return sorted(found)


_FOLLOWER_INBOXES = (
    sa.select(t.actors.c.inbox, t.actors.c.shared_inbox)
    .join(t.follows, t.follows.c.follower_id == t.actors.c.id)
    .where(
        t.follows.c.target_id == sa.bindparam("target"),
        t.follows.c.state == "accepted",
        t.actors.c.domain.is_not(None),
        t.actors.c.suspended.is_(False),
    )
)
# a new outgoing activity's row (``enqueue``), per dialect: built once
_NEW_ACTIVITY: dict[str, Any] = {}


async def follower_inboxes(
    conn: AsyncConnection, target_id: int, also: Iterable[int] = ()
) -> list[str]:
    """``inboxes_for`` the accepted remote followers of ``target_id`` and the actors ``also``,
    the followers joined in the statement rather than listed."""
    found = {
        shared or inbox
        for inbox, shared in await conn.run_sync(rows, _FOLLOWER_INBOXES, {"target": target_id})
        if shared or inbox
    }
    others = list(also)
    if others:
        found.update(await inboxes_for(conn, others))
    return sorted(found)


async def enqueue(
    conn: AsyncConnection,
    *,
    activity: dict[str, Any],
    actor_id: int,
    inboxes: Iterable[str],
    actor_uri: str | None = None,
) -> int | None:
    """Queue ``activity`` (signed later by ``actor_id``) for each inbox; returns the activity row id.

    Call it inside the write transaction that made the change. Inboxes are deduplicated; our own
    host and suspended domains are dropped before any row is written; ``None`` when nobody is left.
    Queuing the same activity id again adds only the inboxes it did not have yet. ``actor_uri``:
    the actor's id when the caller has it (else it is read). The activity row and the deliveries
    are two statements for a new activity (the deliveries one ``executemany``).
    """
    if actor_uri is None:
        actor_uri = (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == actor_id))
        ).scalar_one()
    own_host = host_of(actor_uri)
    wanted = {i for i in inboxes if i and urlsplit(i).scheme in ("http", "https")}
    wanted = {i for i in wanted if host_of(i) != own_host}
    refused = await policy.refused_hosts(conn, None, {host_of(i) for i in wanted})
    wanted = {i for i in wanted if host_of(i) not in refused}
    if not wanted:
        return None
    now = clock.now()
    uri = str(activity["id"])
    dialect = conn.dialect.name
    insert = _NEW_ACTIVITY.get(dialect)
    if insert is None:
        insert = _NEW_ACTIVITY[dialect] = (
            dialect_insert(dialect)(t.activities)
            .on_conflict_do_nothing(index_elements=["uri"])
            .returning(t.activities.c.id)
        )
    existing = (
        await conn.execute(
            insert,
            {
                "uri": uri,
                "direction": "out",
                "type": str(activity.get("type", ""))[:40],
                "actor_id": actor_id,
                "document": activity,
                "state": "done",
                "created_at": now,
            },
        )
    ).scalar()
    if existing is None:  # queued before: only the inboxes it does not have yet
        existing = (
            await conn.execute(sa.select(t.activities.c.id).where(t.activities.c.uri == uri))
        ).scalar_one()
        have = await conn.execute(
            sa.select(t.deliveries.c.inbox).where(t.deliveries.c.activity_id == existing)
        )
        wanted -= {r.inbox for r in have}
    if wanted:
        await conn.execute(
            sa.insert(t.deliveries),
            [
                {
                    "activity_id": existing,
                    "inbox": inbox,
                    "host": host_of(inbox),
                    "state": "new",
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for inbox in sorted(wanted)
            ],
        )
    return existing


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: doubling from a minute, capped, ±25%."""
    delay = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return delay * random.uniform(0.75, 1.25)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """The ``Retry-After`` header as seconds (delta or HTTP date), bounded to a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min((clock.aware(when) - now).total_seconds(), MAX_RETRY_AFTER))


def due(now: datetime) -> sa.Select[Any]:
    """The next batch of due, unleased deliveries, oldest first: a walk of ``ix_deliveries_due``
    (state, next attempt, id), not a sort of every queued row at each claim."""
    return (
        sa.select(
            t.deliveries.c.id,
            t.deliveries.c.activity_id,
            t.deliveries.c.inbox,
            t.deliveries.c.host,
            t.deliveries.c.attempts,
            t.deliveries.c.created_at,
        )
        .where(
            t.deliveries.c.state == "new",
            t.deliveries.c.next_attempt_at <= now,
            sa.or_(t.deliveries.c.locked_until.is_(None), t.deliveries.c.locked_until < now),
        )
        .order_by(t.deliveries.c.next_attempt_at, t.deliveries.c.id)
        .limit(BATCH)
    )


async def _claim(db: Database, now: datetime) -> list[Any]:
    async with db.group_commit():  # on the loop's thread (see ``_on_loop``)
        return await claim(db, t.deliveries, due(now), now + LEASE)


async def _on_loop(db: Database, write: bool, fn: Callable[..., Any], *args: Any) -> Any:
    """A unit of work of the worker in a group commit of its own: on a SQLite file it runs on
    the event loop's thread over a synchronous connection, not on a connection thread that would
    contend with the loop for the GIL at each row while the loop sends (one commit either way)."""
    async with db.group_commit():
        return await (db.write(fn, *args) if write else db.read(fn, *args))


async def _signing_material(
    conn: AsyncConnection, activity_ids: set[int]
) -> dict[int, tuple[bytes, str, str]]:
    rows = await conn.execute(
        sa.select(
            t.activities.c.id,
            t.activities.c.document,
            t.actors.c.key_id,
            t.actors.c.private_key_pem,
        )
        .join(t.actors, t.actors.c.id == t.activities.c.actor_id)
        .where(t.activities.c.id.in_(activity_ids))
    )
    return {r.id: (json.dumps(r.document).encode(), r.key_id, r.private_key_pem) for r in rows}


@dataclass(slots=True)
class _Outcome:
    """What one delivery attempt changes: its row's new values and what it says about the host."""

    row: Any
    values: dict[str, Any]
    host_event: str | None = None  # "up" (it answered) | "down" (network error or 5xx)


def _finish(row: Any, state: str, status: int | None, error: str | None, now: datetime) -> _Outcome:
    values = {
        "state": state,
        "last_status": status,
        "last_error": error,
        "attempts": row.attempts + (0 if state == "skipped" else 1),
        "sent_at": now if state == "sent" else None,
    }
    return _Outcome(row, values, "up" if status is not None and status < 500 else None)


def _retry(
    row: Any,
    status: int | None,
    error: str,
    wait: float | None,
    now: datetime,
    *,
    host_failed: bool,
) -> _Outcome:
    attempts = row.attempts + 1
    next_at = now + timedelta(seconds=wait if wait is not None else backoff(attempts))
    give_up = next_at > clock.aware(row.created_at) + GIVE_UP_AFTER
    values = {
        "state": "failed" if give_up else "new",
        "attempts": attempts,
        "last_status": status,
        "last_error": error[:1000],
        "next_attempt_at": next_at,
    }
    event = "down" if host_failed else ("up" if status is not None and status < 500 else None)
    return _Outcome(row, values, event)


@dataclass(slots=True)
class _Send:
    """A delivery that goes out this cycle: its row, body and (once signed) headers."""

    row: Any
    body: bytes
    job: SignJob
    headers: dict[str, str] | None = None


@dataclass(slots=True)
class _Batch:
    """A claimed batch: its rows, the outcomes settled without sending, the signed sends."""

    rows: list[Any]
    outcomes: list[_Outcome]
    sends: list[_Send]
    now: datetime


class DeliveryWorker:
    """Per-app worker state: the wake-up event, the per-host concurrency limits, the signer."""

    def __init__(
        self, db: Database, settings: Settings, fetcher: Fetcher, signer: Signer | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.fetcher = fetcher
        self.signer = signer or Signer(fetcher.keys)
        self.event = asyncio.Event()
        self._host_limits: dict[str, asyncio.Semaphore] = {}

    def wake(self) -> None:
        """Ask the worker to look at the queue now (after an enqueue has committed)."""
        self.event.set()

    def _limit(self, host: str) -> asyncio.Semaphore:
        return self._host_limits.setdefault(host, asyncio.Semaphore(PER_HOST))

    async def run_once(self, now: datetime | None = None) -> int:
        """One cycle: claim due deliveries, sign them together, send them, record the outcomes
        in one transaction; returns how many rows were claimed."""
        now = now or clock.now()
        rows = await _claim(self.db, now)
        if rows:
            await self._run_batch(rows, now)
        return len(rows)

    async def _run_batch(self, rows: list[Any], now: datetime) -> None:
        """A claimed batch to its end: read, sign, send, record."""
        await self._send_and_record(await self._prepare(rows, now))

    async def _prepare(self, rows: list[Any], now: datetime) -> _Batch:
        """Read what claimed ``rows`` need and sign those to send."""
        material, blocked, host_state = await _on_loop(
            self.db, False, _cycle_reads, self.settings, rows
        )
        outcomes, sends = self._triage(rows, material, blocked, host_state, now)
        signed = await self.signer.sign_many([send.job for send in sends])
        for send, headers in zip(sends, signed, strict=True):
            send.headers = headers
        return _Batch(rows, outcomes, sends, now)

    async def _send_and_record(self, batch: _Batch) -> None:
        async def one(send: _Send) -> _Outcome:
            async with self._limit(send.row.host):
                return await self._deliver(send, batch.now)

        outcomes = batch.outcomes + await asyncio.gather(*(one(send) for send in batch.sends))
        await self._record(outcomes, batch.now)

    async def _pipelined(self, in_flight: set[asyncio.Task[None]]) -> int:
        """The loop's cycle: claim the next batch while up to ``PIPELINE`` - 1 earlier ones are
        being signed or sent (a failed one is raised here, for the loop to report). Only the
        claim is awaited here, so the signing pool is handed the next batch while the loop
        still sends the last: the pool never waits for a claim."""
        _reap(in_flight)
        while len(in_flight) >= PIPELINE:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            _reap(in_flight)
        now = clock.now()
        rows = await _claim(self.db, now)
        if not rows:
            if in_flight:  # nothing new is due: let the batches in flight finish first
                await asyncio.wait(in_flight)
                return await self._pipelined(in_flight)
            return 0
        in_flight.add(asyncio.create_task(self._run_batch(rows, now), name="koers-delivery"))
        return len(rows)

    def _triage(
        self,
        rows: list[Any],
        material: dict[int, tuple[bytes, str, str]],
        blocked: set[str],
        host_state: dict[str, Any],
        now: datetime,
    ) -> tuple[list[_Outcome], list[_Send]]:
        """Rows settled without sending (blocked, unavailable, no key) and the rows to send."""
        probing = {
            host
            for host, state in host_state.items()
            if state.unavailable and (state.probe_at is None or clock.aware(state.probe_at) <= now)
        }
        probing_now: set[str] = set()
        outcomes: list[_Outcome] = []
        sends: list[_Send] = []
        for row in rows:
            if row.host in blocked:
                outcomes.append(_finish(row, "skipped", None, "domain blocked or not allowed", now))
                continue
            state = host_state.get(row.host)
            if state is not None and state.unavailable:
                if row.host not in probing:
                    outcomes.append(_finish(row, "skipped", None, "host unavailable", now))
                    continue
                if row.host in probing_now:  # one probe at a time; the others wait for its answer
                    outcomes.append(_Outcome(row, {"next_attempt_at": now + PROBE_WAIT}))
                    continue
                probing_now.add(row.host)
            if row.activity_id not in material or not material[row.activity_id][2]:
                outcomes.append(
                    _finish(row, "failed", None, "activity or signing key missing", now)
                )
                continue
            body, key_id, pem = material[row.activity_id]
            job = SignJob("POST", row.inbox, post_headers(), body, key_id, pem)
            sends.append(_Send(row, body, job))
        return outcomes, sends

    async def _deliver(self, send: _Send, now: datetime) -> _Outcome:
        row = send.row
        assert send.headers is not None
        try:
            status, headers = await self.fetcher.post_presigned(row.inbox, send.body, send.headers)
        except FetchError as exc:
            if exc.reason in ("private_address", "bad_url"):
                return _finish(row, "failed", None, str(exc), now)
            return _retry(row, None, str(exc), None, now, host_failed=True)
        if 200 <= status < 300:
            return _finish(row, "sent", status, None, now)
        if status in (429, 503):
            wait = retry_after_seconds(headers.get("Retry-After"), now)
            return _retry(row, status, f"HTTP {status}", wait, now, host_failed=status == 503)
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            return _finish(row, "failed", status, f"HTTP {status} (not retried)", now)
        return _retry(row, status, f"HTTP {status}", None, now, host_failed=status >= 500)

    async def _record(self, outcomes: list[_Outcome], now: datetime) -> None:
        """Write a cycle's outcomes in one transaction (a crash before it only means a resend,
        which receivers drop as a duplicate activity id): one ``executemany`` per shape of
        change, and each host's health once."""
        await _on_loop(self.db, True, _record_outcomes, outcomes, now)  # one unit of work
        for outcome in outcomes:
            state = outcome.values.get("state")
            if state in ("failed", "skipped") or (
                state == "new" and "last_error" in outcome.values
            ):
                log.info(
                    "delivery %s to %s: %s (%s)",
                    outcome.row.id,
                    outcome.row.inbox,
                    state,
                    outcome.values.get("last_error"),
                )

    async def loop(self, idle_seconds: float = 2.0) -> None:
        """Run cycles until cancelled, ``PIPELINE`` batches at once (one signing while the others
        send); sleep until woken (or ``idle_seconds``) when idle. Batches in flight when it is
        cancelled are cancelled too: their rows are sent again once their lease expires."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            await run_forever(
                lambda: self._pipelined(in_flight), self.event, "delivery", idle_seconds
            )
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    def close(self) -> None:
        """Stop the signing processes (on app shutdown)."""
        self.signer.close()


def _reap(in_flight: set[asyncio.Task[None]]) -> None:
    """Drop the finished batches; the first that failed raises its error."""
    for task in [task for task in in_flight if task.done()]:
        in_flight.discard(task)
        task.result()


async def _cycle_reads(
    conn: AsyncConnection, settings: Settings, rows: list[Any]
) -> tuple[dict[int, tuple[bytes, str, str]], set[str], dict[str, Any]]:
    """What a cycle reads before signing, in one unit of work: the activities' bodies and keys,
    the refused hosts and the hosts' health."""
    material = await _signing_material(conn, {r.activity_id for r in rows})
    blocked = await policy.refused_hosts(conn, settings, {r.host for r in rows})
    return material, blocked, await hosts.states(conn, {r.host for r in rows})


async def _record_outcomes(conn: AsyncConnection, outcomes: list[_Outcome], now: datetime) -> None:
    changes = [(outcome.row.id, outcome.values) for outcome in outcomes]
    for statement, params in updates_by_shape(t.deliveries, changes):
        await conn.execute(statement, params)
    events = _host_events(outcomes)
    await hosts.record_successes(conn, [host for host, (up, _n, _e) in events.items() if up], now)
    for host, (_succeeded, failures, error) in events.items():
        if failures:
            await hosts.record_failure(conn, host, error, now, count=failures)


def _host_events(outcomes: list[_Outcome]) -> dict[str, tuple[bool, int, str]]:
    """Per host: whether it answered this cycle, the failures after its last answer, the last error.

    Applied as one success then that many failures, this leaves the row as recording each
    outcome in turn would.
    """
    events: dict[str, tuple[bool, int, str]] = {}
    for outcome in outcomes:
        if outcome.host_event is None:
            continue
        succeeded, failures, error = events.get(outcome.row.host, (False, 0, ""))
        if outcome.host_event == "up":
            events[outcome.row.host] = (True, 0, "")
        else:
            events[outcome.row.host] = (succeeded, failures + 1, outcome.values["last_error"])
    return events


async def run_delivery_once(app: Any) -> int:
    """One delivery cycle of ``app``'s worker (tests drive the queue with this)."""
    return await app[DELIVERY].run_once()


def wake(app: Any) -> None:
    """Ask ``app``'s delivery worker to send newly queued rows now (call after the commit)."""
    app[DELIVERY].wake()
