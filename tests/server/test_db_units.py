"""Units of work (``await db.read(fn)`` / ``await db.write(fn)``) on SQLite and PostgreSQL: one
transaction each, committed or rolled back as a whole, beside the async-connection API."""

from __future__ import annotations

import asyncio
import threading

import pytest
import sqlalchemy as sa

from server import clock
from server.storage import schema as t
from server.storage.db import Database


class Boom(RuntimeError):
    """What a failing unit raises."""


def _add_actor(conn: sa.Connection, name: str) -> int:
    now = clock.now()
    row = conn.execute(
        t.actors.insert()
        .values(
            uri=f"https://unit.test/{name}",
            kind="person",
            username=name,
            domain="unit.test",
            created_at=now,
            updated_at=now,
        )
        .returning(t.actors.c.id)
    )
    return int(row.scalar_one())


def _names(conn: sa.Connection) -> list[str]:
    q = sa.select(t.actors.c.username).where(t.actors.c.domain == "unit.test")
    return sorted(r[0] for r in conn.execute(q))


@pytest.fixture
async def db(new_database_url):  # type: ignore[no-untyped-def]
    database = Database(await new_database_url())
    yield database
    await database.close()


async def test_a_written_unit_is_read_by_both_apis(db: Database) -> None:
    actor_id = await db.write(_add_actor, "ana")
    assert actor_id > 0
    assert await db.read(_names) == ["ana"]
    async with db.read() as conn:
        got = await conn.scalar(sa.select(t.actors.c.username).where(t.actors.c.id == actor_id))
    assert got == "ana"


async def test_a_unit_that_raises_writes_nothing(db: Database) -> None:
    def half(conn: sa.Connection) -> None:
        _add_actor(conn, "bo")
        raise Boom("halfway")

    with pytest.raises(Boom):
        await db.write(half)
    assert await db.read(_names) == []


async def test_a_read_unit_leaves_no_write_behind(db: Database) -> None:
    await db.read(_add_actor, "cy")
    assert await db.read(_names) == []


async def test_units_and_async_writes_at_once_all_succeed(db: Database) -> None:
    async def legacy(name: str) -> None:
        async with db.write() as conn:
            await conn.run_sync(_add_actor, name)

    names = [f"u{i}" for i in range(12)]
    await asyncio.gather(
        *(db.write(_add_actor, n) if i % 2 else legacy(n) for i, n in enumerate(names))
    )
    assert await db.read(_names) == sorted(names)


async def test_sqlite_units_run_on_connection_threads(db: Database, backend: str) -> None:
    """On SQLite a write runs on the writer thread and a read not measured yet on a reader
    (``tests/server/storage/test_read_placement.py``: later on the loop); on PostgreSQL on the
    loop (asyncpg)."""
    where = await db.read(lambda conn: threading.current_thread().name)
    if backend == "sqlite":
        assert where.startswith("db-reader-")
        assert (await db.write(lambda conn: threading.current_thread().name)) == "db-writer"
    else:
        assert where == threading.current_thread().name


async def test_optimize_runs(db: Database) -> None:
    await db.write(_add_actor, "dee")
    await db.optimize()
    assert await db.read(_names) == ["dee"]


async def _add_actor_async(conn, name: str) -> int:  # type: ignore[no-untyped-def]
    """Async-connection code, as in-transaction listeners are written."""
    got = await conn.run_sync(_add_actor, name)
    found = await conn.scalar(sa.select(t.actors.c.id).where(t.actors.c.username == name))
    assert found == got
    return int(got)


async def test_a_coroutine_function_runs_inline_as_a_write_unit(db: Database) -> None:
    """``db.write(async_fn)`` runs code written for ``AsyncConnection`` in one write unit."""

    async def two(conn) -> int:  # type: ignore[no-untyped-def]
        first = await _add_actor_async(conn, "dee")
        await _add_actor_async(conn, "eve")
        return first

    assert await db.write(two) > 0
    assert await db.read(_names) == ["dee", "eve"]

    async def failing(conn) -> None:  # type: ignore[no-untyped-def]
        await _add_actor_async(conn, "fay")
        raise Boom("after the first statement")

    with pytest.raises(Boom):
        await db.write(failing)
    assert await db.read(_names) == ["dee", "eve"]


async def test_an_inline_write_that_awaits_anything_else_is_refused(db: Database) -> None:
    """Awaiting a sleep (or a lock, or the network) inside a unit raises instead of blocking,
    and what it wrote is rolled back."""

    async def sleeper(conn) -> None:  # type: ignore[no-untyped-def]
        await conn.run_sync(_add_actor, "gus")
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its connection"):
        await db.write(sleeper)
    assert await db.read(_names) == []
