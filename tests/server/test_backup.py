"""Backups: an archive made while posts, follows and media are being written comes back whole.

The backup runs in a thread (as ``koers backup`` beside a serving instance) while writers keep
committing on the event loop; everything committed before it started is in the restored copy, and
every media row of the copy has its file.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tarfile
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from server.backup import BackupError, make_backup, restore_backup, sqlite_path
from server.config import ensure_data_dir, load_settings
from server.context import Context
from server.services import accounts, follows, media, posts
from server.services.posts import Draft
from server.storage import schema as t
from server.storage.db import Database, migrate
from tests.conftest import PASSWORD, PG_URL, UNIT_URL, _pg_admin_url, _pg_exec, _with_db


def _png(n: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (n % 256, 40, 90)).save(out, "PNG")
    return out.getvalue()


async def _snapshot(db: Database) -> dict[str, set]:
    async with db.read() as conn:
        return {
            "posts": {
                tuple(r)
                for r in await conn.execute(sa.select(t.posts.c.id, t.posts.c.content_html))
            },
            "follows": {
                tuple(r)
                for r in await conn.execute(
                    sa.select(t.follows.c.follower_id, t.follows.c.target_id)
                )
            },
            "keys": {
                tuple(r)
                for r in await conn.execute(
                    sa.select(t.actors.c.id, t.actors.c.private_key_pem).where(
                        t.actors.c.private_key_pem.is_not(None)
                    )
                )
            },
            "media": {
                tuple(r)
                for r in await conn.execute(
                    sa.select(t.media.c.id, t.media.c.path).where(t.media.c.path.is_not(None))
                )
            },
        }


async def test_a_backup_under_write_load_restores_every_committed_row_and_file(
    ctx: Context, make_member, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = ensure_data_dir(ctx.settings.replace(secret=""))  # writes secret.key
    people = [await make_member(f"m{i}") for i in range(6)]
    for i in range(150):  # a database of some size, so the copy takes a moment
        await posts.create_post(ctx, people[i % 6].actor_id, Draft(source=f"before {i} " * 20))
    for i in range(5):
        await follows.follow(ctx, people[0].actor_id, people[i + 1].actor_id)
    for i in range(5):
        await media.create_attachment(ctx, people[i].actor_id, _png(i))
    before = await _snapshot(ctx.db)

    stop = asyncio.Event()
    written_during = 0
    files_started = threading.Event()
    loop = asyncio.get_running_loop()
    progress_lines: list[str] = []

    async def writer() -> None:
        nonlocal written_during
        n = 0
        while not stop.is_set():
            n += 1
            await posts.create_post(ctx, people[n % 6].actor_id, Draft(source=f"during {n}"))
            if n % 5 == 0:
                await media.create_attachment(ctx, people[n % 6].actor_id, _png(n))
            if files_started.is_set():
                written_during += 1
            await asyncio.sleep(0)

    def progress(line: str) -> None:
        progress_lines.append(line)
        if line.startswith("files:") and not files_started.is_set():
            files_started.set()
            # hold the backup between its database copy and its files until writes went on
            deadline = loop.time() + 10
            while written_during < 5 and loop.time() < deadline:
                threading.Event().wait(0.01)

    task = asyncio.create_task(writer())
    archive = tmp_path / "koers.tar.gz"
    await asyncio.sleep(0.05)
    summary = await asyncio.to_thread(
        make_backup, settings.data_dir, settings.database_url, archive, progress
    )
    stop.set()
    await task
    assert written_during >= 5, "the writers did not run while the backup did"
    assert summary.database == "sqlite" and archive.exists()
    assert any("SQLite backup API" in line for line in progress_lines)

    target = tmp_path / "restored"
    db_file = tmp_path / "restored-db" / "koers.sqlite3"
    restored_url = f"sqlite+aiosqlite:///{db_file}"
    restore_backup(archive, target, restored_url)
    copy = Database(restored_url)
    try:
        after = await _snapshot(copy)
    finally:
        await copy.close()
    for kind in ("posts", "follows", "keys", "media"):
        assert before[kind] <= after[kind], kind
    assert len(after["posts"]) > len(before["posts"])  # some written during the backup came too
    for _id, rel in after["media"]:
        assert (target / "media" / rel).is_file(), rel
    assert (target / "secret.key").read_text() == (settings.data_dir / "secret.key").read_text()


async def _small_backup(ctx: Context, tmp_path: Path) -> Path:
    archive = tmp_path / "b.tar"
    make_backup(ctx.settings.data_dir, ctx.settings.database_url, archive)
    return archive


async def test_restore_refuses_a_non_empty_directory_and_foreign_files(
    ctx: Context, tmp_path: Path
) -> None:
    ensure_data_dir(ctx.settings)
    archive = await _small_backup(ctx, tmp_path)
    with pytest.raises(BackupError, match="already exists"):
        make_backup(ctx.settings.data_dir, ctx.settings.database_url, archive)
    url = f"sqlite:///{tmp_path / 'r' / 'koers.sqlite3'}"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive, busy, url)
    (tmp_path / "junk.tar").write_bytes(b"not an archive at all")
    with pytest.raises(BackupError, match="not a tar archive"):
        restore_backup(tmp_path / "junk.tar", tmp_path / "r1", url)
    with tarfile.open(tmp_path / "other.tar", "w") as tar:
        tar.add(archive, "something.bin")
    with pytest.raises(BackupError, match="not a Koers backup"):
        restore_backup(tmp_path / "other.tar", tmp_path / "r2", url)
    with pytest.raises(BackupError, match="no backup file"):
        restore_backup(tmp_path / "missing.tar", tmp_path / "r3", url)
    existing = sqlite_path(ctx.settings.database_url)
    with pytest.raises(BackupError, match="a database already exists"):
        restore_backup(archive, tmp_path / "r4", f"sqlite:///{existing}")
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r4").exists()


async def test_restore_refuses_members_outside_the_directory(ctx: Context, tmp_path: Path) -> None:
    ensure_data_dir(ctx.settings)
    archive = await _small_backup(ctx, tmp_path)
    evil = tmp_path / "evil.tar"
    with tarfile.open(archive) as src, tarfile.open(evil, "w") as out:
        for m in src.getmembers():
            out.addfile(m, src.extractfile(m))
        info = tarfile.TarInfo("files/../../escaped")
        info.size = 1
        out.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BackupError, match="not a plain file inside it"):
        restore_backup(evil, tmp_path / "r", f"sqlite:///{tmp_path / 'r' / 'k.sqlite3'}")
    assert not (tmp_path / "escaped").exists()


@pytest.mark.skipif(
    not PG_URL, reason="KOERS_TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)"
)
@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not on the PATH")
async def test_on_postgresql_the_backup_is_a_pg_dump_restored_with_pg_restore(
    tmp_path: Path,
) -> None:
    names = [f"koers_bk_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in names:
        await _pg_exec(f'CREATE DATABASE "{name}"')
    source_url, target_url = (_with_db(_pg_admin_url(), name) for name in names)
    try:
        settings = ensure_data_dir(
            load_settings(
                env={}, url=UNIT_URL, data_dir=str(tmp_path / "d"), database_url=source_url
            )
        )
        db = Database(source_url)
        try:
            await migrate(db)
            ana = await accounts.create_account(
                db, settings, username="ana", email="a@example.test", password=PASSWORD
            )
        finally:
            await db.close()
        lines: list[str] = []
        archive = tmp_path / "pg.tgz"
        summary = await asyncio.to_thread(
            make_backup, settings.data_dir, source_url, archive, lines.append
        )
        assert summary.database == "postgresql" and "database: running pg_dump" in lines
        await asyncio.to_thread(restore_backup, archive, tmp_path / "r", target_url, lines.append)
        copy = Database(target_url)
        try:
            async with copy.read() as conn:
                key = (
                    await conn.execute(
                        sa.select(t.actors.c.private_key_pem).where(t.actors.c.id == ana.actor_id)
                    )
                ).scalar()
        finally:
            await copy.close()
        assert key and key.startswith("-----BEGIN")
        assert (tmp_path / "r" / "secret.key").is_file()
    finally:
        for name in names:
            await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
