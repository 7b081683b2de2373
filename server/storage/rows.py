"""Small typed helpers for SQLAlchemy results and statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import CursorResult


def dialect_insert(dialect: str) -> Any:
    """The backend's own ``insert`` (both have ``on_conflict_do_nothing`` / ``_do_update``).

    The dialect's package is imported on first use: ``sqlalchemy.dialects.postgresql`` also
    loads its asyncpg driver glue, which an instance on SQLite never needs
    (``tests/test_startup_imports.py``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT just created."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the statement inserted no row")
    return int(key[0])
