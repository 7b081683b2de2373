"""Bulk row writers of the benchmark seeder: raw ``sqlite3`` executemany, or PostgreSQL COPY.

Both take rows as tuples with an explicit column list (columns left out get their server
defaults) and explicit ids, so the generator never waits for a database round trip.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

Row = tuple[Any, ...]


class SqliteWriter:
    """Writes into a migrated SQLite file in large transactions, journal in memory while it runs."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=MEMORY")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("BEGIN")

    @staticmethod
    def ts(value: datetime) -> str:
        """A timestamp the way SQLAlchemy stores it on SQLite (naive UTC, microseconds)."""
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    async def max_id(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])

    async def write(self, table: str, columns: tuple[str, ...], rows: list[Row]) -> None:
        if not rows:
            return
        marks = ",".join("?" * len(columns))
        self.conn.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)

    async def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    async def pause_triggers(self, tables: tuple[str, ...]) -> None:
        """Drop the triggers of ``tables`` (the counters') for the bulk load; see ``resume``."""
        marks = ",".join("?" * len(tables))
        self.paused = self.conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})",
            tables,
        ).fetchall()
        for name, _sql in self.paused:
            self.conn.execute(f'DROP TRIGGER "{name}"')

    async def resume_triggers(self, tables: tuple[str, ...]) -> None:
        """Create the triggers ``pause_triggers`` dropped again, as they were."""
        for _name, sql in getattr(self, "paused", []):
            self.conn.execute(sql)

    async def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    async def finish(self, tables: list[str]) -> None:
        """Commit and put the file back in the mode the server opens it in (WAL). No ANALYZE:
        the server decides about planner statistics itself."""
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


class PostgresWriter:
    """Writes with ``COPY … FROM STDIN`` (asyncpg), then moves each id sequence past the rows."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.tx: Any = None

    @classmethod
    async def open(cls, url: str) -> PostgresWriter:
        import asyncpg

        writer = cls(await asyncpg.connect(url))
        await writer._begin()
        return writer

    async def _begin(self) -> None:
        self.tx = self.conn.transaction()
        await self.tx.start()

    @staticmethod
    def ts(value: datetime) -> datetime:
        return value

    async def max_id(self, table: str) -> int:
        return int(await self.conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}"))

    async def write(self, table: str, columns: tuple[str, ...], rows: list[Row]) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def execute(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def pause_triggers(self, tables: tuple[str, ...]) -> None:
        """Disable the user triggers of ``tables`` (the counters') for the bulk load."""
        for table in tables:
            await self.conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")

    async def resume_triggers(self, tables: tuple[str, ...]) -> None:
        """Enable them again."""
        for table in tables:
            await self.conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    async def commit(self) -> None:
        await self.tx.commit()
        await self._begin()

    async def finish(self, tables: list[str]) -> None:
        """Commit, set the sequences and gather statistics, as autovacuum would soon do anyway."""
        for table in tables:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        await self.tx.commit()
        await self.conn.execute("VACUUM ANALYZE")
        await self.conn.close()


Writer = SqliteWriter | PostgresWriter
