"""``server/storage/schema.py`` and the Alembic migrations describe the same database: a fresh
database migrated to head has every table, column, type, index and constraint of ``schema.metadata``
and nothing else, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.storage import fulltext, schema
from server.storage.db import Database


async def _differences(url: str, metadata: sa.MetaData) -> list[Any]:
    """What autogenerate would write for ``metadata`` against the migrated database at ``url``."""

    def compare(sync_conn: sa.Connection) -> list[Any]:
        # The options of server/storage/migrations/env.py, so this sees what autogenerate sees.
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "include_object": fulltext.include_object}
        )
        return list(compare_metadata(context, metadata))

    db = Database(url)
    try:
        async with db.read() as conn:
            return await conn.run_sync(compare)
    finally:
        await db.close()


async def test_migrated_database_matches_schema(
    new_database_url: Callable[[], Awaitable[str]],
) -> None:
    assert await _differences(await new_database_url(), schema.metadata) == []


async def test_a_column_missing_from_the_migrations_is_found(
    new_database_url: Callable[[], Awaitable[str]],
) -> None:
    """The comparison can fail: a column that only schema.py has is reported."""
    changed = sa.MetaData()
    for table in schema.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["posts"].append_column(sa.Column("not_migrated", sa.Integer, nullable=True))
    found = await _differences(await new_database_url(), changed)
    assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "posts", "not_migrated")]
