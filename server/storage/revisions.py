"""Schema revisions: compare the database with the migration scripts cheaply, upgrade when behind.

Importing Alembic costs about a quarter of a second and tens of modules (Mako, Pygments), and a
restart almost always finds the schema already at head. So the head revisions are read from the
migration scripts' ``revision`` / ``down_revision`` lines and compared with ``alembic_version``;
Alembic is imported and run only when they differ (or when a script cannot be read that way).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

    from server.storage.db import Database

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def head_revisions(versions: Path = MIGRATIONS / "versions") -> set[str] | None:
    """The revisions no script revises (Alembic's heads), or ``None`` when a script is unreadable."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found is None:
            return None
        revisions.add(found.group(1))
        down = _DOWN_REVISION.search(text)
        if down is not None:
            revised.update(_QUOTED.findall(down.group(1)))
    return revisions - revised or None


async def current_revisions(db: Database) -> set[str]:
    """The revisions recorded in the database's ``alembic_version`` (empty on a new database)."""
    try:
        async with db.read() as conn:
            rows = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return {str(r[0]) for r in rows}
    except sa.exc.DBAPIError:  # no alembic_version table yet: a new database
        return set()


def alembic_config(url: str) -> Config:
    """The Alembic configuration for ``url`` (scripts beside this module; no logging set-up)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


async def run_alembic(db: Database) -> None:
    """Upgrade to head with Alembic inside one write transaction."""

    def upgrade(sync_conn: Any) -> None:
        from alembic import command

        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "head")

    if db.is_sqlite:
        await _upgrade_sqlite(db, upgrade)
        return
    async with db.write() as conn:
        await conn.run_sync(upgrade)


async def _upgrade_sqlite(db: Database, upgrade: Any) -> None:
    """SQLite alters a table by rebuilding it (Alembic's batch mode: copy, drop, rename); with
    foreign keys on, dropping the old table would cascade into every row that references it (an
    ``ALTER`` of ``actors`` would delete every post). So the upgrade runs with them off — a pragma
    that only takes effect outside a transaction — checks them before it commits, and turns them
    back on."""

    def pragma(sync_conn: Any, value: str) -> None:
        cursor = sync_conn.connection.dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={value}")
        cursor.close()

    def run(sync_conn: Any) -> None:
        pragma(sync_conn, "OFF")
        try:
            with sync_conn.begin():
                upgrade(sync_conn)
                broken = sync_conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"the upgrade would leave rows pointing at nothing: {broken[:5]}"
                    )
        finally:
            pragma(sync_conn, "ON")

    async with db.engine.execution_options(koers_write=True).connect() as conn:
        await conn.run_sync(run)


async def upgrade(db: Database) -> bool:
    """Bring the schema to head; returns whether Alembic ran (``False``: already at head)."""
    heads = head_revisions()
    if heads is not None and await current_revisions(db) == heads:
        return False
    log.info("schema behind the migration scripts: upgrading")
    await run_alembic(db)
    return True
