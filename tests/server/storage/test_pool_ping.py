"""PostgreSQL connections are pinged only after sitting idle in the pool (not on every
checkout), and a connection the database closed meanwhile is replaced before it is used."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from server.storage import db as db_module
from server.storage.db import Database


def _backend_pid(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(conn: sa.Connection, pid: int) -> None:
    conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")


def _one(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT 1").scalar_one())


async def test_an_idle_connection_closed_by_the_database_is_replaced_before_use(
    backend: str, new_database_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        pytest.skip("the pool ping concerns PostgreSQL")
    db = Database(await new_database_url(), pool_size=1)
    other = Database(db.url, pool_size=1)
    try:
        first = await db.read(_backend_pid)
        await other.read(_terminate, first)
        monkeypatch.setattr(db_module, "PING_IDLE_AFTER", 0.0)  # it has been idle long enough
        assert await db.read(_one) == 1
        assert await db.read(_backend_pid) != first
    finally:
        await db.close()
        await other.close()


async def test_a_connection_used_moments_ago_is_not_pinged(
    backend: str, new_database_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        pytest.skip("the pool ping concerns PostgreSQL")
    db = Database(await new_database_url(), pool_size=1)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    try:
        await db.read(_one)
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
        pings: list[object] = []
        dialect = db.engine.dialect
        original = dialect.do_ping

        def counted(conn: Any) -> bool:
            pings.append(conn)
            return original(conn)

        monkeypatch.setattr(dialect, "do_ping", counted)
        for _ in range(3):
            assert await db.read(_one) == 1
        assert pings == []
        assert statements == ["SELECT 1"] * 3
    finally:
        await db.close()
