"""The database handle: read and write transactions, as units of work or as async connections.

Two ways in, over one transaction each:

- ``await db.read(fn, *args)`` / ``await db.write(fn, *args)`` run a synchronous unit of work
  ``fn(conn, *args)`` over a SQLAlchemy ``Connection``. On a SQLite file a write runs on the
  writer thread (``storage.threads``): one thread hop for the whole unit; a read runs on the
  loop's own thread once it is known to be short, else on a reader thread (``storage.placement``).
  On PostgreSQL it runs through
  ``AsyncConnection.run_sync`` over asyncpg: no thread at all, the statements await the socket.
  The same function serves both backends; hot read paths are written this way. ``fn`` may also
  be a coroutine function over an ``AsyncConnection`` that awaits nothing but its statements:
  ``db.read`` runs it inline in one unit (``storage.inline``), so async read code costs one hop.
- ``async with db.read() as conn`` / ``async with db.write() as conn`` give an ``AsyncConnection``
  (aiosqlite or asyncpg) for code that awaits between statements.

SQLite allows one writer at a time; two connections that both upgrade a read transaction to a
write one make the second fail with "database is locked". So on SQLite every write (of either
kind) takes one asyncio lock, while PostgreSQL writes run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server.errors import ConfigError
from server.storage import group_commit
from server.storage.group_commit import AsyncTransaction, GroupCommit, SyncTransaction, Transaction
from server.storage.inline import inline
from server.storage.placement import ReadPlacement, is_busy, unit_key
from server.storage.threads import ConnectionThreads, sqlite_pragmas

R = TypeVar("R")

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """One engine for the process; ``read()`` and ``write()`` give transactions (see the module)."""

    def __init__(
        self, url: str, *, pool_size: int = 10, readers: int = 2, threads: bool | None = None
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._threads: ConnectionThreads | None = None
        self._sync_url = ""
        self._group_engine: sa.Engine | None = None
        self._group_conn: sa.Connection | None = None
        self._loop_readers: list[sa.Connection] = []
        self._placement = ReadPlacement()
        if self.is_sqlite:
            path = make_url(url).database or ""
            on_disk = path not in ("", ":memory:")
            if on_disk:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(
                url,
                connect_args={"timeout": 30},
                pool_size=5,
                max_overflow=10,
                hide_parameters=True,  # errors and logs never show a statement's values
            )
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)
            # Let us issue BEGIN ourselves (pysqlite's own transaction handling is off).
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            # Write transactions take SQLite's write lock at BEGIN (IMMEDIATE, as the writer
            # thread's do), so one that reads first cannot fail on another connection's commit.
            self._writer: AsyncEngine = self.engine.execution_options(koers_write=True)
            # Units of work get their own connection threads (``threads=False``: run them over
            # aiosqlite instead, one hop per statement, as a baseline to measure against).
            if on_disk and threads is not False:
                sync_url = make_url(url).set(drivername="sqlite+pysqlite")
                self._sync_url = sync_url.render_as_string(hide_password=False)
                self._threads = ConnectionThreads(self._sync_url, readers=readers)
        else:
            self.engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True
            )
            # Connections idle a while are pinged before use (``pool_pre_ping`` pinged on every
            # checkout: three round trips, BEGIN, ``;`` and ROLLBACK, before every unit of work).
            event.listen(self.engine.sync_engine.pool, "checkin", _checked_in)
            event.listen(
                self.engine.sync_engine.pool, "checkout", _idle_pinger(self.engine.dialect)
            )
        self._write_lock = asyncio.Lock()

    @overload
    def read(self) -> AbstractAsyncContextManager[AsyncConnection]: ...
    @overload
    def read(self, fn: Callable[..., Coroutine[Any, Any, R]], *args: Any) -> Awaitable[R]: ...
    @overload
    def read(self, fn: Callable[..., R], *args: Any) -> Awaitable[R]: ...
    def read(self, fn: Callable[..., Any] | None = None, *args: Any) -> Any:
        """``await db.read(fn, *args)``: run the unit ``fn(conn, *args)`` in a read transaction
        (a coroutine function runs inline, its awaits on the connection completing at once).
        ``async with db.read() as conn``: an async connection (rolled back at the end)."""
        scope = group_commit.current(self)
        if scope is not None and scope.holds_writes():  # read this task's uncommitted writes
            if fn is None:
                return scope.block(write=False)
            if inspect.iscoroutinefunction(fn):
                return _scoped_unit(scope, inline, (fn, *args), write=False)
            return _scoped_unit(scope, fn, args, write=False)
        if scope is not None and scope.reader is not None:  # no thread hop per statement
            if fn is None:
                return scope.read_block()
            if inspect.iscoroutinefunction(fn):
                return _scoped_read(scope, inline, (fn, *args))
            return _scoped_read(scope, fn, args)
        if fn is None:
            return self._read_conn()
        if inspect.iscoroutinefunction(fn):
            return self._read_unit(inline, (fn, *args), fn)
        return self._read_unit(fn, args, fn)

    @overload
    def write(self) -> AbstractAsyncContextManager[AsyncConnection]: ...
    @overload
    def write(self, fn: Callable[..., Coroutine[Any, Any, R]], *args: Any) -> Awaitable[R]: ...
    @overload
    def write(self, fn: Callable[..., R], *args: Any) -> Awaitable[R]: ...
    def write(self, fn: Callable[..., Any] | None = None, *args: Any) -> Any:
        """``await db.write(fn, *args)``: run ``fn(conn, *args)`` in a transaction committed on
        success (a coroutine function runs inline, as for ``read``: the hot writes and their
        in-transaction listeners cost one hop). ``async with db.write() as conn``: the same as
        an async connection."""
        scope = group_commit.current(self)
        if scope is not None:  # a block of the scope's shared transaction
            if fn is None:
                return scope.block()
            if inspect.iscoroutinefunction(fn):
                return _scoped_unit(scope, inline, (fn, *args), write=True)
            return _scoped_unit(scope, fn, args, write=True)
        if fn is None:
            return self._write_conn()
        if inspect.iscoroutinefunction(fn):
            return self._write_unit(inline, (fn, *args))
        return self._write_unit(fn, args)

    def group_commit(self) -> GroupCommit:
        """A scope whose tasks' write transactions share their commits: ``async with
        db.group_commit() as scope`` (see ``server.storage.group_commit``)."""
        reader = self._loop_reader if self._threads is not None else None
        return GroupCommit(self, self._open_group, self._release_group, reader)

    async def _open_group(self) -> Transaction:
        """A begun transaction for a group commit (on SQLite with the write lock held)."""
        if self.is_sqlite:
            await self._write_lock.acquire()
        try:
            if self._threads is not None:
                trans = SyncTransaction(self._group_connection())
                await trans.begin()
                return trans
            conn = await (self._writer if self.is_sqlite else self.engine).connect()
            try:
                await conn.begin()
            except BaseException:
                await conn.close()
                raise
            return AsyncTransaction(conn)
        except BaseException:
            self._release_group()
            raise

    def _release_group(self) -> None:
        if self.is_sqlite:
            self._write_lock.release()

    @contextlib.contextmanager
    def _loop_reader(self) -> Iterator[sa.Connection]:
        """A synchronous read connection for the loop thread (group commits on a SQLite file),
        taken from those kept for it, or opened."""
        conn = self._loop_readers.pop() if self._loop_readers else None
        if conn is None or conn.invalidated or conn.closed:
            conn = self._group_engine_made().connect()
        try:
            yield conn
        finally:
            if conn.invalidated or conn.closed:
                conn.close()
            else:
                self._loop_readers.append(conn)

    def _group_engine_made(self) -> sa.Engine:
        if self._group_engine is None:
            self._group_engine = sa.create_engine(
                self._sync_url, poolclass=sa.pool.NullPool, hide_parameters=True
            )
            event.listen(self._group_engine, "connect", _group_pragmas)
        return self._group_engine

    def _group_connection(self) -> sa.Connection:
        """The synchronous connection group commits use on the loop thread (a SQLite file)."""
        conn = self._group_conn
        if conn is None or conn.invalidated or conn.closed:
            conn = self._group_conn = self._group_engine_made().connect()
        return conn

    @contextlib.asynccontextmanager
    async def _read_conn(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _write_conn(self) -> AsyncIterator[AsyncConnection]:
        if self.is_sqlite:
            async with self._write_lock:
                async with self._writer.begin() as conn:
                    yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    async def _read_unit(
        self, fn: Callable[..., R], args: tuple[Any, ...], named: Callable[..., Any]
    ) -> R:
        """A read unit: on a SQLite file on the loop's thread when it is known to be short, else
        on a reader thread (``storage.placement``); elsewhere over the async connection."""
        if self._threads is None:
            async with self.engine.connect() as conn:
                return await conn.run_sync(fn, *args)
        placement = self._placement
        key = unit_key(named)
        if placement.on_loop(key):
            if placement.held_too_long():  # reads back to back: let the loop serve the rest
                await asyncio.sleep(0)
            started = time.thread_time()
            try:
                result = self._loop_read(fn, args)
            except Exception as exc:
                if not is_busy(exc):
                    raise
                log.debug("a read on the loop's connection found the database busy; retried")
            else:
                placement.ran_on_loop(key, time.thread_time() - started)
                return result
        return await self._threads.read(placement.timed(key, fn), *args)

    def _loop_read(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        """Run ``fn(conn, *args)`` here, on the loop's thread, in a read transaction."""
        with self._loop_reader() as conn:
            trans = conn.begin()
            conn.exec_driver_sql("BEGIN")  # the connection's own BEGIN is off (pysqlite)
            try:
                return fn(conn, *args)
            finally:
                trans.rollback()

    async def _write_unit(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        if self._threads is not None:
            async with self._write_lock:
                return await self._threads.write(fn, *args)
        async with self._write_conn() as conn:
            return await conn.run_sync(fn, *args)

    async def optimize(self) -> None:
        """Refresh the planner's statistics where they are stale (SQLite ``PRAGMA optimize``;
        PostgreSQL's autovacuum does this itself)."""
        if self.is_sqlite:
            await self.write(_optimize)

    async def check(self) -> None:
        """Open a connection once, turning driver errors into one clear line."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # drivers raise many types; all mean "cannot reach it"
            raise ConfigError(
                f"cannot reach the database {safe_url(self.url)}: {_first_line(exc)}"
            ) from None

    async def close(self) -> None:
        """Stop the connection threads and close every pooled connection."""
        if self._threads is not None:
            await self._threads.close()
        for conn in [self._group_conn, *self._loop_readers]:
            if conn is not None:
                conn.close()
        self._loop_readers = []
        if self._group_engine is not None:
            self._group_engine.dispose()
        await self.engine.dispose()


async def _scoped_unit(
    scope: GroupCommit, fn: Callable[..., R], args: tuple[Any, ...], *, write: bool
) -> R:
    async with scope.block(write=write) as conn:
        return await conn.run_sync(fn, *args)


async def _scoped_read(scope: GroupCommit, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
    async with scope.read_block() as conn:
        return await conn.run_sync(fn, *args)


PING_IDLE_AFTER = 10.0  # seconds a pooled PostgreSQL connection may sit unused before a ping


def _checked_in(_dbapi_conn: Any, record: Any) -> None:
    record.info["koers_idle_since"] = time.monotonic()


def _idle_pinger(dialect: sa.Dialect) -> Callable[[Any, Any, Any], None]:
    """The pool's checkout listener: ping a connection that sat in the pool longer than
    ``PING_IDLE_AFTER`` (a database restarted meanwhile has closed it); a dead one is replaced by
    the pool, as ``pool_pre_ping`` does. One in use moments ago is not pinged: should the
    database have restarted since, its statement fails, and SQLAlchemy then drops every
    connection the pool made before."""

    def ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("koers_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_AFTER:
            return
        try:
            alive = dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any driver error means the connection is gone
            raise sa.exc.DisconnectionError(str(exc)) from exc
        if alive is False:
            raise sa.exc.DisconnectionError("the connection did not answer a ping")

    return ping_if_idle


def _group_pragmas(dbapi_conn: Any, record: Any) -> None:
    """The usual pragmas, but no busy timeout: used on the loop thread, it must never wait."""
    sqlite_pragmas(dbapi_conn, record)
    dbapi_conn.execute("PRAGMA busy_timeout=0")


def _optimize(conn: sa.Connection) -> None:
    # analysis_limit bounds the work on a large table (a sample, not a full scan)
    conn.exec_driver_sql("PRAGMA analysis_limit=1000")
    conn.exec_driver_sql("PRAGMA optimize")


def _sqlite_begin(conn) -> None:
    write = conn.get_execution_options().get("koers_write")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as its scheme only
        return url.split("://", 1)[0] + "://…"


async def migrate(db: Database) -> None:
    """Bring the schema to the newest revision (idempotent; Alembic runs only when behind)."""
    from server.storage import revisions

    await revisions.upgrade(db)


@contextlib.asynccontextmanager
async def migrated(database_url: str) -> AsyncIterator[Database]:
    """The database of a command of the command line: reachable (``check``), brought to the
    newest schema, and closed when the command is done with it, however it ends."""
    db = Database(database_url)
    try:
        await db.check()
        await migrate(db)
        yield db
    finally:
        await db.close()
