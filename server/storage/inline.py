"""Async read code as one unit of work: its awaits on the connection complete at once.

Most reads are written as ``async def f(conn: AsyncConnection, …)``, awaiting one statement after
another; over aiosqlite each statement costs several thread hops. ``inline(conn, f, *args)`` runs
such a function inside a unit of work (``await db.read(f, *args)`` does it for a coroutine
function, ``await db.write(f, *args)`` likewise in a write transaction): it hands ``f`` an ``InlineConnection`` over the unit's synchronous ``Connection``, whose
``execute`` (and friends) run the statement right away and return its result, and drives the
coroutine to its end without an event loop. One implementation of each read, whichever way in.

A function run this way may await its connection and other such functions, nothing else (no
sleep, no network, no other transaction): anything that would suspend raises ``RuntimeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import sqlalchemy as sa

R = TypeVar("R")


class InlineConnection:
    """An ``AsyncConnection`` look-alike over a synchronous ``Connection``: nothing awaits."""

    def __init__(self, conn: sa.Connection) -> None:
        self.sync_connection = conn
        self.dialect = conn.dialect

    @property
    def sync_engine(self) -> sa.Engine:
        """The connection's engine (what caches key their database by)."""
        return self.sync_connection.engine

    @property
    def info(self) -> dict[Any, Any]:
        """The connection's ``info`` dictionary."""
        return self.sync_connection.info

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> sa.CursorResult[Any]:
        """Run a statement now (as ``AsyncConnection.execute``; its rows are read on demand)."""
        if execution_options is None:
            return self.sync_connection.execute(statement, parameters)
        return self.sync_connection.execute(
            statement, parameters, execution_options=execution_options
        )

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> sa.CursorResult[Any]:
        """Run a textual statement now."""
        return self.sync_connection.exec_driver_sql(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        """The first column of the first row."""
        return self.sync_connection.scalar(statement, parameters)

    async def scalars(self, statement: Any, parameters: Any = None) -> sa.ScalarResult[Any]:
        """The first column of every row."""
        return self.sync_connection.scalars(statement, parameters)

    async def run_sync(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``fn(conn, *args)`` on the synchronous connection (what units of work already are)."""
        return fn(self.sync_connection, *args, **kwargs)


def inline(
    conn: sa.Connection, fn: Callable[..., Coroutine[Any, Any, R]], *args: Any, **kwargs: Any
) -> R:
    """Run ``await fn(InlineConnection(conn), *args)`` to its end, here and now (a unit of work)."""
    coro = fn(InlineConnection(conn), *args, **kwargs)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError(
        f"{getattr(fn, '__qualname__', fn)} awaited something other than its connection; "
        "it cannot run as a unit of work"
    )
