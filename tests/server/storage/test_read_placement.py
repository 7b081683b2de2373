"""Where read units run on a SQLite file: a short one on the loop's thread once it has been
measured, a long or new one on a reader thread, a busy database read again on a reader thread,
and reads back to back that let the loop serve others in between."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from server.storage import placement
from server.storage.db import Database
from server.storage.placement import ReadPlacement, is_busy, unit_key


@pytest.fixture
async def db(new_database_url, backend):  # type: ignore[no-untyped-def]
    if backend != "sqlite":
        pytest.skip("units on PostgreSQL await asyncpg on the loop: there is nothing to place")
    database = Database(await new_database_url())
    yield database
    await database.close()


def _where(_conn: sa.Connection) -> str:
    return threading.current_thread().name


def _busy_for(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


def _takes(_conn: sa.Connection, seconds: float) -> str:
    _busy_for(seconds)
    return threading.current_thread().name


async def test_a_short_read_runs_on_the_loop_once_it_has_been_measured(db: Database) -> None:
    loop_thread = threading.current_thread().name
    assert (await db.read(_where)).startswith("db-reader-")  # not measured yet
    assert await db.read(_where) == loop_thread

    def read_by_a_new_lambda():  # type: ignore[no-untyped-def]
        return db.read(lambda conn: _where(conn))

    assert (await read_by_a_new_lambda()).startswith("db-reader-")  # another unit: new
    # a lambda made anew on every call is one unit (its code object)
    assert {await read_by_a_new_lambda() for _ in range(3)} == {loop_thread}


async def test_a_long_read_stays_on_a_reader_thread(db: Database) -> None:
    long = placement.LOOP_BUDGET * 2
    for _ in range(3):
        assert (await db.read(_takes, long)).startswith("db-reader-")


async def test_a_read_that_grows_long_goes_back_to_a_reader(db: Database) -> None:
    loop_thread = threading.current_thread().name
    await db.read(_takes, 0)
    assert await db.read(_takes, 0) == loop_thread
    # one run far past the budget lifts the average above it
    assert await db.read(_takes, placement.LOOP_BUDGET * 8) == loop_thread
    assert (await db.read(_takes, 0)).startswith("db-reader-")


async def test_a_read_on_the_loop_sees_its_own_snapshot(db: Database) -> None:
    def two_reads(conn: sa.Connection) -> tuple[int, int]:
        first = conn.exec_driver_sql("SELECT count(*) FROM actors").scalar_one()
        return first, conn.exec_driver_sql("SELECT count(*) FROM actors").scalar_one()

    await db.read(two_reads)
    first, second = await db.read(two_reads)  # on the loop now, in one transaction
    assert first == second


async def test_a_busy_database_sends_the_read_to_a_reader_that_waits(db: Database) -> None:
    loop_thread = threading.current_thread().name
    tries: list[str] = []

    def unit(conn: sa.Connection) -> str:
        where = threading.current_thread().name
        tries.append(where)
        if where == loop_thread and len(tries) > 1:  # what SQLite says while a lock is held
            raise sqlite3.OperationalError("database is locked")
        return conn.exec_driver_sql("SELECT 'read'").scalar_one()

    assert await db.read(unit) == "read"  # measured on a reader
    assert await db.read(unit) == "read"  # on the loop: busy, so again on a reader
    assert tries[1] == loop_thread and tries[2].startswith("db-reader-")

    def fails(conn: sa.Connection) -> None:
        if threading.current_thread().name == loop_thread:
            raise sqlite3.OperationalError("no such table: nowhere")

    await db.read(fails)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.read(fails)  # any other error is the unit's own: it is not run again


async def test_reads_back_to_back_let_the_loop_serve_others(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await db.read(_where)
    monkeypatch.setattr(placement, "HOLD_LIMIT", 0.0)
    others: list[int] = []

    async def many_reads() -> int:
        before = 0
        for n in range(20):
            await db.read(_where)
            if n == 0:
                before = len(others)
        return before

    async def other() -> None:
        others.append(1)

    reads = asyncio.ensure_future(many_reads())
    asyncio.ensure_future(other())
    await reads
    assert others  # it ran while the reads went on, not only after them


def test_a_unit_is_known_by_its_code() -> None:
    def unit(conn: object, n: int) -> int:
        return n

    class Holder:
        def method(self, conn: object) -> None:
            return None

    assert unit_key(unit) is unit.__code__
    assert unit_key(functools.partial(unit, n=1)) is unit.__code__
    assert unit_key(Holder().method) is Holder.method.__code__
    assert unit_key(len) is len  # no code object: the callable itself


def test_the_average_follows_the_measurements() -> None:
    p = ReadPlacement(budget=0.003)
    assert not p.on_loop("u") and p.cost("u") is None
    p.record("u", 0.001)
    assert p.on_loop("u")
    p.record("u", 0.02)
    assert not p.on_loop("u") and p.cost("u") == pytest.approx(0.001 + 0.019 * 0.25)


def test_only_a_locked_database_counts_as_busy() -> None:
    assert is_busy(sqlite3.OperationalError("database is locked"))
    assert is_busy(sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("busy")))
    assert not is_busy(sqlite3.OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))
