"""The queues' batch work: claiming due rows with a lease, and writing their outcomes with one
``executemany`` per set of changed columns instead of one statement per row."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from server.storage.db import Database


def updates_by_shape(
    table: sa.Table, changes: Iterable[tuple[int, dict[str, Any]]]
) -> list[tuple[Any, list[dict[str, Any]]]]:
    """``UPDATE table SET … , locked_until = NULL WHERE id = ?`` statements with their parameter
    lists, one per set of columns among ``changes`` (row id, new values)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes:
        params = {f"v_{name}": value for name, value in values.items()}
        params["row_id"] = row_id
        shapes.setdefault(tuple(sorted(values)), []).append(params)
    return [(_update(table, columns), rows) for columns, rows in shapes.items()]


@functools.lru_cache(maxsize=64)
def _update(table: sa.Table, columns: tuple[str, ...]) -> sa.Update:
    """The ``UPDATE`` of these columns, built once (its compiled form is then cached too)."""
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values(locked_until=None, **{name: sa.bindparam(f"v_{name}") for name in columns})
    )


@functools.lru_cache(maxsize=16)
def _lease(table: sa.Table) -> sa.Update:
    return (
        sa.update(table)
        .where(table.c.id.in_(sa.bindparam("ids", expanding=True)))
        .values(locked_until=sa.bindparam("until"))
    )


async def claim(
    db: Database,
    table: sa.Table,
    query: sa.Select[Any],
    until: datetime,
    params: dict[str, Any] | None = None,
) -> list[Any]:
    """The rows of ``query`` (a batch of due rows of ``table``; ``params`` its bound values),
    leased to this worker ``until`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
    workers never claim the same row)."""
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    return await db.write(_claim, table, query, until, params or {})  # one unit of work, one hop


def _claim(
    conn: sa.Connection,
    table: sa.Table,
    query: sa.Select[Any],
    until: datetime,
    params: dict[str, Any],
) -> list:
    rows = list(conn.execute(query, params))
    if rows:
        conn.execute(_lease(table), {"ids": [r.id for r in rows], "until": until})
    return rows
