"""Start-up migrations: Alembic is skipped when the schema is at head and still runs when behind."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from server.storage import revisions
from server.storage.db import Database, migrate


def _script(folder: Path, name: str, revision: str, down: str) -> None:
    (folder / f"{name}.py").write_text(
        f'"""{name}"""\n\nrevision = "{revision}"\ndown_revision = {down}\n'
    )


def test_heads_follow_the_revision_chain_and_merges(tmp_path: Path) -> None:
    _script(tmp_path, "a", "aaa", "None")
    _script(tmp_path, "b", "bbb", "'aaa'")
    _script(tmp_path, "c", "ccc", "'aaa'")
    assert revisions.head_revisions(tmp_path) == {"bbb", "ccc"}
    _script(tmp_path, "d", "ddd", "('bbb', 'ccc')")
    assert revisions.head_revisions(tmp_path) == {"ddd"}


def test_an_unreadable_script_leaves_the_decision_to_alembic(tmp_path: Path) -> None:
    _script(tmp_path, "a", "aaa", "None")
    (tmp_path / "b.py").write_text("REVISION = compute()\n")
    assert revisions.head_revisions(tmp_path) is None


def test_the_real_scripts_have_one_head() -> None:
    heads = revisions.head_revisions()
    assert heads is not None and len(heads) == 1


async def test_new_database_runs_alembic_then_skips_it_at_head(
    backend: str, new_database_url: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    url = await new_database_url()
    db = Database(url)
    try:
        assert await revisions.current_revisions(db) == revisions.head_revisions()
        assert await revisions.upgrade(db) is False  # at head: nothing to run
    finally:
        await db.close()
    if backend == "sqlite":
        fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}")
        try:
            assert await revisions.current_revisions(fresh) == set()
            assert await revisions.upgrade(fresh) is True
            assert await revisions.current_revisions(fresh) == revisions.head_revisions()
        finally:
            await fresh.close()


async def test_alembic_is_not_imported_at_head(
    new_database_url: Callable[[], Awaitable[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(await new_database_url())
    calls: list[Database] = []

    async def run_alembic(database: Database) -> None:
        calls.append(database)

    monkeypatch.setattr(revisions, "run_alembic", run_alembic)
    for name in [m for m in sys.modules if m == "alembic" or m.startswith("alembic.")]:
        monkeypatch.delitem(sys.modules, name)
    try:
        await migrate(db)
        assert calls == []
        assert "alembic" not in sys.modules
        # One script more than the database has seen: Alembic runs.
        monkeypatch.setattr(revisions, "head_revisions", lambda: {"newer"})
        await migrate(db)
        assert calls == [db]
    finally:
        await db.close()


async def test_a_database_one_revision_behind_is_upgraded(
    new_database_url: Callable[[], Awaitable[str]],
) -> None:
    from alembic import command

    db = Database(await new_database_url())
    try:

        def downgrade(sync_conn: object) -> None:
            cfg = revisions.alembic_config(db.url)
            cfg.attributes["connection"] = sync_conn
            command.downgrade(cfg, "-1")

        async with db.write() as conn:
            await conn.run_sync(downgrade)
        behind = await revisions.current_revisions(db)
        assert behind and behind != revisions.head_revisions()
        assert await revisions.upgrade(db) is True
        assert await revisions.current_revisions(db) == revisions.head_revisions()
    finally:
        await db.close()
