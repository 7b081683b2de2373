"""Async read code run as one unit of work (``await db.read(async_fn)``, ``storage.inline``): the
same results as over an async connection, in one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.storage import schema as t
from server.storage.db import Database
from server.storage.inline import InlineConnection, inline


def _add(conn: sa.Connection, names: list[str]) -> None:
    now = clock.now()
    conn.execute(
        t.actors.insert(),
        [
            {
                "uri": f"https://inline.test/{n}",
                "kind": "person",
                "username": n,
                "domain": "inline.test",
                "created_at": now,
                "updated_at": now,
            }
            for n in names
        ],
    )


async def _names(conn: AsyncConnection) -> list[str]:
    q = sa.select(t.actors.c.username).where(t.actors.c.domain == "inline.test")
    return sorted(r[0] for r in await conn.execute(q))


async def _report(conn: AsyncConnection) -> dict:
    # awaits another such function, each way into the connection, and a sync unit function
    count = await conn.scalar(sa.select(sa.func.count()).where(t.actors.c.domain == "inline.test"))
    first = (
        await conn.scalars(sa.select(t.actors.c.username).order_by(t.actors.c.username))
    ).first()
    names = await _names(conn)
    again = await conn.run_sync(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(t.actors)).scalar_one()
    )
    return {"count": count, "names": names, "first": first, "all": again}


async def test_an_async_read_runs_as_one_unit(new_database_url) -> None:
    db = Database(await new_database_url())
    try:
        await db.write(_add, ["bo", "al"])
        inline_result = await db.read(_report)
        async with db.read() as conn:
            async_result = await _report(conn)
    finally:
        await db.close()
    assert inline_result == async_result
    assert inline_result["names"] == ["al", "bo"]
    assert inline_result["count"] == 2


async def test_an_error_inside_propagates(new_database_url) -> None:
    async def failing(conn: AsyncConnection) -> None:
        await conn.execute(sa.select(1))
        raise LookupError("not there")

    db = Database(await new_database_url())
    try:
        with pytest.raises(LookupError, match="not there"):
            await db.read(failing)
        assert await db.read(_names) == []  # the connection is usable afterwards
    finally:
        await db.close()


def test_a_function_that_really_awaits_is_refused() -> None:
    engine = sa.create_engine("sqlite://")

    async def sleeps(conn: InlineConnection) -> int:
        await asyncio.sleep(0)
        return 1

    with engine.connect() as conn, pytest.raises(RuntimeError, match="awaited something other"):
        inline(conn, sleeps)
