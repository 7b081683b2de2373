"""Small typed helpers for reading SQLAlchemy results."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import CursorResult


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT just created."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the statement inserted no row")
    return int(key[0])
