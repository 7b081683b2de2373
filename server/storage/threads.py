"""SQLite connections owned by threads: a unit of work costs one thread hop, not one per statement.

A *unit of work* is a synchronous function ``fn(conn, *args)`` over a SQLAlchemy ``Connection``.
``ConnectionThreads`` keeps a few reader threads and one writer thread, each with its own
connection opened once, and runs each unit on one of them inside one transaction: the event loop
waits on a single future per unit while every statement in it runs at ``sqlite3`` speed. The
single writer thread is also SQLite's single writer (``BEGIN IMMEDIATE``), so writers queue in
order instead of retrying on "database is locked".
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event

from server.storage import fulltext

log = logging.getLogger(__name__)
R = TypeVar("R")

# A job: the future to settle, its loop, and the unit with its arguments; None stops a thread.
_Job = tuple[asyncio.Future, asyncio.AbstractEventLoop, Callable[..., Any], tuple[Any, ...]] | None


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Per-connection settings: WAL, foreign keys, a long busy timeout, pysqlite's own BEGIN off,
    and the SQL function the full-text index's triggers call."""
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    fulltext.register(dbapi_conn)  # the search index's triggers call it


def _engine(url: str, begin: str) -> sa.Engine:
    engine = sa.create_engine(
        url, poolclass=sa.pool.NullPool, connect_args={"timeout": 30}, hide_parameters=True
    )
    event.listen(engine, "connect", sqlite_pragmas)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


class _Worker:
    """One thread, one connection, taking units from a queue it may share with other workers."""

    def __init__(self, engine: sa.Engine, jobs: queue.SimpleQueue[_Job], *, write: bool, name: str):
        self.engine = engine
        self.jobs = jobs
        self.write = write
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn: sa.Connection | None = None
        try:
            while (job := self.jobs.get()) is not None:
                fut, loop, fn, args = job
                try:
                    if conn is None or conn.invalidated or conn.closed:
                        conn = self.engine.connect()
                    outcome: tuple[Any, BaseException | None] = (self._unit(conn, fn, args), None)
                except BaseException as exc:  # handed to the awaiting coroutine, which re-raises
                    outcome = (None, exc)
                _reply(loop, fut, *outcome)
        finally:
            if conn is not None:
                conn.close()

    def _unit(self, conn: sa.Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        trans = conn.begin()
        try:
            result = fn(conn, *args)
        except BaseException:
            trans.rollback()
            raise
        try:
            if self.write:
                trans.commit()
            else:
                trans.rollback()
        except BaseException:
            # a commit that failed (a full disk) leaves the transaction open: end it, or every
            # later unit on this connection would fail too
            _abandon(conn)
            raise
        return result


def _abandon(conn: sa.Connection) -> None:
    """Roll back whatever transaction ``conn`` still has; a connection that cannot is dropped
    (invalidated) so the thread opens a fresh one for its next unit."""
    try:
        conn.rollback()
    except Exception:  # nothing to save on a broken connection: replace it
        log.debug("rollback after a failed commit failed; replacing the connection")
        conn.invalidate()


def _reply(
    loop: asyncio.AbstractEventLoop, fut: asyncio.Future, result: Any, exc: BaseException | None
) -> None:
    """Settle the caller's future on its loop; a loop that has closed meanwhile (its caller gone)
    gets nothing, and the thread goes on with the next unit."""
    try:
        loop.call_soon_threadsafe(_settle, fut, result, exc)
    except RuntimeError:
        log.debug("unit finished after its event loop closed")


def _settle(fut: asyncio.Future, result: Any, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


class ConnectionThreads:
    """``readers`` reader threads sharing one queue, and one writer thread, on a SQLite file."""

    def __init__(self, url: str, *, readers: int = 2) -> None:
        self._read_jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._write_jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.read_engine = _engine(url, "BEGIN")
        self.write_engine = _engine(url, "BEGIN IMMEDIATE")
        self._workers = [
            _Worker(self.read_engine, self._read_jobs, write=False, name=f"db-reader-{i}")
            for i in range(readers)
        ]
        self._workers.append(
            _Worker(self.write_engine, self._write_jobs, write=True, name="db-writer")
        )

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(conn, *args)`` on a reader thread in a read transaction (rolled back)."""
        return await self._submit(self._read_jobs, fn, args)

    async def write(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(conn, *args)`` on the writer thread in a transaction committed on success."""
        return await self._submit(self._write_jobs, fn, args)

    async def _submit(self, jobs: queue.SimpleQueue[_Job], fn: Callable[..., R], args: tuple) -> R:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[R] = loop.create_future()
        jobs.put((fut, loop, fn, args))
        # A cancelled caller does not stop a unit that already runs; the thread finishes it.
        return await asyncio.shield(fut)

    async def close(self) -> None:
        """Stop every thread after the units already queued, closing their connections."""
        readers = sum(1 for w in self._workers if not w.write)
        for _ in range(readers):
            self._read_jobs.put(None)
        self._write_jobs.put(None)
        await asyncio.to_thread(self._join)
        self.read_engine.dispose()
        self.write_engine.dispose()

    def _join(self) -> None:
        for worker in self._workers:
            worker.thread.join(timeout=30)
