"""Code written for ``AsyncConnection`` run inside a unit of work, on its synchronous connection.

A write unit (``await db.write(fn)``) runs ``fn(conn)`` on the writer thread (SQLite) or through
``run_sync`` (PostgreSQL). The domain's in-transaction code — event listeners that build activities
and queue deliveries, notifications — is written against ``AsyncConnection`` and only ever awaits
the database. ``UnitConnection`` gives a unit's ``sa.Connection`` that interface, each coroutine
method running its statement synchronously; ``run(coro)`` then drives such a coroutine to its end
without an event loop. So one implementation serves both the async callers and the units, and a
unit costs one thread hop however many statements its listeners run.

A coroutine that awaits anything but the database (a sleep, a lock, the network) cannot run in a
unit: ``run`` raises ``NotInUnit`` instead of blocking the writer.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

R = TypeVar("R")
P = ParamSpec("P")


class NotInUnit(RuntimeError):
    """A coroutine run inside a unit of work awaited something other than its connection."""


class UnitConnection:
    """A unit's synchronous ``Connection`` behind the coroutine methods of ``AsyncConnection``."""

    def __init__(self, conn: sa.Connection) -> None:
        self.sync_connection = conn

    @property
    def sync_engine(self) -> sa.Engine:
        return self.sync_connection.engine

    @property
    def dialect(self) -> sa.Dialect:
        return self.sync_connection.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self.sync_connection.info

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self.sync_connection.execute(statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self.sync_connection.scalar(statement, parameters, **kw)

    async def scalars(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self.sync_connection.scalars(statement, parameters, **kw)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        return self.sync_connection.exec_driver_sql(statement, parameters, **kw)

    async def run_sync(self, fn: Callable[..., R], *args: Any, **kw: Any) -> R:
        return fn(self.sync_connection, *args, **kw)


def as_async(conn: sa.Connection) -> AsyncConnection:
    """``conn`` seen as an ``AsyncConnection`` by code that only awaits its statements."""
    return cast(AsyncConnection, UnitConnection(conn))


def run(coro: Coroutine[Any, Any, R]) -> R:
    """Drive ``coro`` (which awaits only a ``UnitConnection``) to its end and return its result."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(R, done.value)
    coro.close()
    raise NotInUnit("a coroutine run inside a unit of work awaited something besides the database")


def in_unit(conn: sa.Connection, make: Callable[[AsyncConnection], Coroutine[Any, Any, R]]) -> R:
    """``run(make(as_async(conn)))``: async-connection code as one step of a unit of work."""
    return run(make(as_async(conn)))


def unit(
    fn: Callable[Concatenate[AsyncConnection, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[sa.Connection, P], R]:
    """The unit of work that runs the async-connection function ``fn(conn, *args)``:
    ``await db.write(unit(fn), *args)``."""

    def run_unit(conn: sa.Connection, *args: P.args, **kw: P.kwargs) -> R:
        return run(fn(as_async(conn), *args, **kw))

    run_unit.__name__ = run_unit.__qualname__ = f"unit({fn.__qualname__})"
    return run_unit
