"""Write a new Alembic migration from the difference between schema.py and the migrations so far.

Usage: python scripts/new_migration.py "what changed"
Runs against a throwaway SQLite database; review the generated file before committing it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from server.storage.db import Database, alembic_config, migrate


async def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'm.sqlite3'}"
        db = Database(url)
        await migrate(db)

        def generate(sync_conn) -> None:  # type: ignore[no-untyped-def]
            cfg = alembic_config(url)
            cfg.set_main_option(
                "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
            )
            cfg.attributes["connection"] = sync_conn
            command.revision(cfg, message=message, autogenerate=True)

        async with db.write() as conn:
            await conn.run_sync(generate)
        await db.close()
    # Autogenerate renders boolean defaults the SQLite way (0/1), which PostgreSQL refuses.
    for path in Path("server/storage/migrations/versions").glob("*.py"):
        text = path.read_text()
        fixed = text.replace("server_default=sa.text('0')", "server_default=sa.false()").replace(
            "server_default=sa.text('1')", "server_default=sa.true()"
        )
        if fixed != text:
            path.write_text(fixed)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "schema change"))
