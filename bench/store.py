"""Direct database access of a benchmark run (sqlite3 or asyncpg, never Koers' own code):
wiring the loopback fediverse into the seeded data and watching the queues drain."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from bench.fediverse import Actors, Sink


class Store:
    """A small connection with ``?`` placeholders on both backends."""

    def __init__(self, sqlite_path: str | None, pg: Any = None) -> None:
        self.sqlite = sqlite3.connect(sqlite_path, isolation_level=None) if sqlite_path else None
        if self.sqlite is not None:
            self.sqlite.execute("PRAGMA busy_timeout=30000")
        self.pg = pg

    @classmethod
    async def open(cls, database_url: str, data_dir: str) -> Store:
        if database_url.startswith("postgres"):
            import asyncpg

            url = "postgresql://" + database_url.split("://", 1)[1]
            return cls(None, await asyncpg.connect(url))
        path = database_url.split(":///", 1)[1] if database_url else f"{data_dir}/koers.sqlite3"
        return cls(path)

    def _pg_sql(self, sql: str) -> str:
        parts = sql.split("?")
        return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))

    def ts(self, value: datetime) -> Any:
        if self.sqlite is not None:
            return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    async def execute(self, sql: str, *args: Any) -> None:
        if self.sqlite is not None:
            self.sqlite.execute(sql, args)
        else:
            await self.pg.execute(self._pg_sql(sql), *args)

    async def value(self, sql: str, *args: Any) -> Any:
        if self.sqlite is not None:
            row = self.sqlite.execute(sql, args).fetchone()
            return row[0] if row else None
        return await self.pg.fetchval(self._pg_sql(sql), *args)

    async def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.sqlite is not None:
            return list(self.sqlite.execute(sql, args).fetchall())
        return [tuple(r) for r in await self.pg.fetch(self._pg_sql(sql), *args)]

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        else:
            await self.pg.close()

    # --- the benchmark's wiring ----------------------------------------------------------------

    async def actor_id(self, username: str) -> int:
        found = await self.value(
            "SELECT id FROM actors WHERE username = ? AND domain IS NULL", username
        )
        if found is None:
            raise SystemExit(f"bench: no local account {username!r}; was the data seeded?")
        return int(found)

    async def clear_queues(self) -> None:
        """Leftovers of an earlier run would be worked off in this one: set them aside."""
        await self.execute("UPDATE deliveries SET state = 'skipped' WHERE state = 'new'")
        await self.execute(
            "UPDATE activities SET state = 'ignored' WHERE direction = 'in' AND state = 'new'"
        )
        await self.execute("DELETE FROM hosts WHERE domain LIKE '127.0.0.%'")

    async def follow_loopback_actors(self, bench: int, actors: Actors) -> None:
        """The loopback remote people, known with their key and followed by bench."""
        now = self.ts(datetime.now(UTC))
        pem = actors.document(0)["publicKey"]["publicKeyPem"]
        for n in range(actors.count):
            uri = actors.uri(n)
            await self.execute(
                "INSERT INTO actors (uri, kind, username, domain, display_name, url, inbox,"
                " shared_inbox, outbox, followers_url, following_url, key_id, public_key_pem,"
                " fields, extra, created_at, updated_at, fetched_at)"
                " VALUES (?, 'person', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', '{}', ?, ?, ?)",
                uri,
                f"r{n}",
                actors.domain,
                f"Remote {n}",
                uri,
                f"{uri}/inbox",
                f"http://{actors.domain}/inbox",
                f"{uri}/outbox",
                f"{uri}/followers",
                f"{uri}/following",
                f"{uri}#main-key",
                pem,
                now,
                now,
                now,
            )
            target = await self.value("SELECT id FROM actors WHERE uri = ?", uri)
            await self.execute(
                "INSERT INTO follows (follower_id, target_id, state, uri, created_at)"
                " VALUES (?, ?, 'accepted', ?, ?)",
                bench,
                target,
                f"{uri}/follows/bench",
                now,
            )

    async def point_followers_at(self, bench: int, sink: Sink) -> int:
        """Bench's remote followers get their inboxes on the sink, one loopback address per host.
        Returns how many hosts."""
        rows = await self.rows(
            "SELECT a.id, a.domain, a.username FROM follows f JOIN actors a ON a.id = f.follower_id"
            " WHERE f.target_id = ? AND a.domain IS NOT NULL AND f.state = 'accepted'",
            bench,
        )
        hosts = sorted({domain for _id, domain, _name in rows})
        for actor, domain, name in rows:
            base = f"http://{sink.address(hosts.index(domain))}:{sink.port}"
            await self.execute(
                "UPDATE actors SET inbox = ?, shared_inbox = ? WHERE id = ?",
                f"{base}/users/{name}/inbox",
                f"{base}/inbox",
                actor,
            )
        return len(hosts)

    async def backend_pids(self) -> list[int]:
        """Process ids of the PostgreSQL backends on this database but ours (none on SQLite)."""
        if self.pg is None:
            return []
        rows = await self.rows(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(pid) for (pid,) in rows]

    async def inbox_waiting(self) -> int:
        return int(
            await self.value(
                "SELECT count(*) FROM activities WHERE direction = 'in' AND state = 'new'"
            )
        )

    async def deliveries_waiting(self) -> int:
        return int(await self.value("SELECT count(*) FROM deliveries WHERE state = 'new'"))
