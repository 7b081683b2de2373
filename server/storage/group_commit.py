"""Group commit: the write transactions of concurrent tasks in one scope share their commit.

The inbox worker applies a batch of activities in lanes side by side, and each handler opens its
own write transactions (``async with db.write() as conn``, ``await db.write(fn)``). Inside a
``GroupCommit`` scope (``async with db.group_commit() as scope``) those *blocks* run one at a
time on one connection, each in a savepoint (a block that fails rolls back alone, as its own
transaction did; the first block of a transaction needs none: it rolls the transaction back), and consecutive blocks share one transaction: it commits ``COMMIT_DELAY``
after a block that no other is waiting behind (so the lanes' next blocks, a few reads away,
join it), after ``MAX_BLOCKS`` blocks, or when the scope ends. So under load a batch of
activities costs a handful of commits, and a transaction is never kept open long while its lanes
wait on the network.

On a SQLite file the scope's connection is a synchronous one used on the event loop's thread
(each statement at ``sqlite3`` speed, no thread hop per statement); its write lock is taken
without blocking the loop (another process's writer is waited for by polling). Elsewhere (on
PostgreSQL, an in-memory SQLite) it is an ``AsyncConnection`` of the engine. On SQLite the
process's write lock is held while the transaction is open, as for any write.

What a task of the scope sees:

- its reads (``db.read``) go through the scope's connection while it has writes there that are
  not committed yet (it reads its own writes); its other reads see committed rows, on a SQLite
  file over a synchronous connection of their own on the loop thread (``read_block``), elsewhere
  as outside a scope;
- its after-commit work (``EventHub.committed`` asks ``defer``) runs once the transaction that
  holds its writes has committed, and is dropped when that commit fails;
- a commit that fails raises in the block that ended the transaction, and ``lost`` names the keys
  (``set_key``: the inbox worker's activity ids) whose writes that transaction took with it.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

from server.storage.inline import InlineConnection

log = logging.getLogger(__name__)

MAX_BLOCKS = 32  # a transaction commits after this many blocks even while more are waiting
COMMIT_DELAY = 0.003  # … and this many seconds after its last block when no other is waiting
BUSY_POLL = 0.002  # SQLite: seconds between tries for a write lock another process holds
BUSY_GIVE_UP = 30.0  # … and after this long the block fails ("database is locked")

_SCOPE: ContextVar[GroupCommit | None] = ContextVar("koers_group_commit", default=None)
_KEY: ContextVar[Hashable | None] = ContextVar("koers_group_commit_key", default=None)
_HELD: ContextVar[Any] = ContextVar("koers_group_commit_held", default=None)

AfterCommit = Callable[[], Awaitable[None]]


def current(owner: object) -> GroupCommit | None:
    """The open scope of ``owner`` (a ``Database``) this task runs in, if any."""
    scope = _SCOPE.get()
    return scope if scope is not None and scope.owner is owner and scope.is_open else None


def set_key(key: Hashable) -> None:
    """Name what the current task's writes belong to (for ``GroupCommit.lost``)."""
    _KEY.set(key)


def defer(callback: AfterCommit) -> bool:
    """Run ``callback`` after the commit of the current task's writes, when they are not
    committed yet (True); False when there is nothing to wait for (run it now)."""
    scope = _SCOPE.get()
    if scope is None or not scope.is_open or not scope.holds_writes():
        return False
    scope._after.append(callback)
    return True


class Transaction(abc.ABC):
    """The shared transaction: its connection (``conn``), commit and rollback."""

    conn: Any

    @abc.abstractmethod
    async def commit(self) -> None:
        """Make the blocks' writes durable."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo every block's writes."""


class SyncTransaction(Transaction):
    """A synchronous SQLite connection used on the loop thread, write-locked by polling."""

    def __init__(self, connection: sa.Connection) -> None:
        self.sync = connection
        self.conn = InlineConnection(connection)
        self._trans: sa.RootTransaction | None = None

    async def begin(self) -> None:
        """``BEGIN IMMEDIATE`` without blocking the loop (the connection's busy timeout is 0)."""
        give_up = time.monotonic() + BUSY_GIVE_UP
        self._trans = self.sync.begin()
        while True:
            try:
                self.sync.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > give_up:
                    await self.rollback()
                    raise
            await asyncio.sleep(BUSY_POLL)

    async def commit(self) -> None:
        assert self._trans is not None
        try:
            self._trans.commit()
        except BaseException:
            await self.rollback()  # a failed commit leaves the transaction open: end it
            raise

    async def rollback(self) -> None:
        try:
            self.sync.rollback()
        except sa.exc.DBAPIError:  # nothing to keep on a broken connection: replace it
            log.debug("rollback of a group transaction failed; replacing the connection")
            self.sync.invalidate()


class AsyncTransaction(Transaction):
    """An ``AsyncConnection`` in a transaction (PostgreSQL, SQLite over aiosqlite)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def commit(self) -> None:
        try:
            await self.conn.commit()
        finally:
            await self.conn.close()

    async def rollback(self) -> None:
        try:
            await self.conn.rollback()
        finally:
            await self.conn.close()


@contextlib.asynccontextmanager
async def _savepoint(conn: Any) -> AsyncIterator[None]:
    if isinstance(conn, InlineConnection):
        with conn.sync_connection.begin_nested():
            yield
    else:
        async with conn.begin_nested():
            yield


class GroupCommit:
    """One scope: blocks one at a time on a shared transaction (see the module docstring).

    ``open_transaction()`` gives a begun ``Transaction``; ``release()`` is called once it has
    ended (the database's write lock, on SQLite)."""

    def __init__(
        self,
        owner: object,
        open_transaction: Callable[[], Awaitable[Transaction]],
        release: Callable[[], None] = lambda: None,
        reader: Callable[[], contextlib.AbstractContextManager[sa.Connection]] | None = None,
    ) -> None:
        self.owner = owner
        self.reader = reader
        self.is_open = False
        self.lost: set[Hashable] = set()
        self.failure: BaseException | None = None
        self.commits = 0
        self.blocks = 0
        self._open = open_transaction
        self._release = release
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._in_transaction = 0
        self._trans: Transaction | None = None
        self._written: set[Hashable] = set()
        self._after: list[AfterCommit] = []
        self._token: Any = None
        self._timer: asyncio.TimerHandle | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def __aenter__(self) -> GroupCommit:
        self.is_open = True
        self._token = _SCOPE.set(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        _SCOPE.reset(self._token)
        if self._timer is not None:
            self._timer.cancel()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        async with self._lock:
            ready = await self._end() if self._trans is not None else []
        self.is_open = False
        await _run(ready)

    def _commit_later(self) -> None:
        """Commit ``COMMIT_DELAY`` from now, unless another block ends first (it re-arms)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(COMMIT_DELAY, self._flush_soon)

    def _flush_soon(self) -> None:
        self._timer = None
        if self._trans is not None and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.create_task(self._flush(), name="koers-group-commit")

    async def _flush(self) -> None:
        ready: list[AfterCommit] = []
        async with self._lock:
            if self._trans is None:
                return
            try:
                ready = await self._end()
            except Exception as exc:  # told through ``lost``/``failure``; the scope's owner acts
                log.debug("a group commit failed: %r", exc)
        await _run(ready)

    def _key(self) -> Hashable:
        key = _KEY.get()
        return key if key is not None else id(asyncio.current_task())

    def holds_writes(self) -> bool:
        """Has the current task written in the transaction still open (or is it in a block)?"""
        return _HELD.get() is not None or (self._trans is not None and self._key() in self._written)

    @contextlib.asynccontextmanager
    async def block(self, *, write: bool = True) -> AsyncIterator[Any]:
        """The shared connection for one block (a savepoint of the shared transaction)."""
        held = _HELD.get()
        if held is not None:  # a transaction inside this task's own block: a nested savepoint
            async with _savepoint(held):
                yield held
            return
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        ready: list[AfterCommit] = []
        try:
            if self._trans is None:
                self._trans = await self._open()
                self._in_transaction = 0
            conn = self._trans.conn
            token = _HELD.set(conn)
            try:
                if self._in_transaction:
                    async with _savepoint(conn):
                        yield conn
                else:  # the transaction's first block needs no savepoint: it is all there is
                    try:
                        yield conn
                    except BaseException:
                        await self._roll_back()
                        raise
            finally:
                _HELD.reset(token)
            if write:
                self._written.add(self._key())
        finally:
            try:
                if self._trans is not None:
                    self._in_transaction += 1
                    self.blocks += 1
                    if self._in_transaction >= MAX_BLOCKS:
                        ready = await asyncio.shield(self._end())
                    elif not self._waiting:
                        self._commit_later()
            finally:
                self._lock.release()
                await _run(ready)  # other tasks' work too: run even when this block failed

    @contextlib.asynccontextmanager
    async def read_block(self) -> AsyncIterator[Any]:
        """A read transaction of its own (committed rows only) on a synchronous connection used
        on the loop thread (``reader``: a SQLite file), or None when there is no such reader."""
        assert self.reader is not None
        with self.reader() as conn:
            trans = conn.begin()
            conn.exec_driver_sql("BEGIN")
            try:
                yield InlineConnection(conn)
            finally:
                trans.rollback()

    async def _roll_back(self) -> None:
        """End the open transaction without its writes (its first block failed)."""
        trans, self._trans = self._trans, None
        assert trans is not None
        try:
            await trans.rollback()
        finally:
            self._release()

    async def _end(self) -> list[AfterCommit]:
        """Commit the open transaction; the after-commit work it released."""
        trans, written, after = self._trans, self._written, self._after
        assert trans is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._trans, self._written, self._after = None, set(), []
        try:
            await trans.commit()
        except BaseException as exc:
            self.lost |= written
            self.failure = exc
            raise
        finally:
            self._release()
        self.commits += 1
        return after


async def _run(callbacks: list[AfterCommit]) -> None:
    for callback in callbacks:
        await callback()  # EventHub's callbacks log their own failures
