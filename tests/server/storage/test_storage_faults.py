"""A full or read-only disk (issue 11, findings 3 and 11): clear answers, nothing half written.

The file-system tests mount a small tmpfs (root only, where the machine allows mounts) and skip
cleanly otherwise; ``chmod`` would not stop root, so a read-only mount is the real thing.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from PIL import Image

from server.storage import faults
from server.storage import schema as t
from server.storage.faults import Fault
from tests.api.conftest import api_token
from tests.federation.conftest import post_activity, signer_for

# --- classifying faults --------------------------------------------------------------------------


def _sqlite_error(tmp_path: Path, mode: str) -> sqlite3.Error:
    path = tmp_path / f"{mode}.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE x (v BLOB)")
    conn.commit()
    conn.close()
    try:
        if mode == "ro":
            sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO x VALUES (1)")
        else:
            full = sqlite3.connect(path)
            full.execute("PRAGMA max_page_count = 3")  # a database that cannot grow: SQLITE_FULL
            full.execute("INSERT INTO x VALUES (?)", (b"x" * 100_000,))
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("no error")


def test_real_sqlite_full_and_read_only_errors_are_recognised(tmp_path: Path) -> None:
    full, ro = _sqlite_error(tmp_path, "full"), _sqlite_error(tmp_path, "ro")
    assert faults.classify(full) is Fault.FULL
    assert faults.classify(ro) is Fault.READ_ONLY
    wrapped = sa.exc.OperationalError("INSERT …", {}, full)  # as SQLAlchemy raises it
    assert faults.classify(wrapped) is Fault.FULL
    try:
        try:
            raise ro
        except sqlite3.Error as exc:
            raise RuntimeError("unit failed") from exc
    except RuntimeError as chained:
        assert faults.classify(chained) is Fault.READ_ONLY


def test_file_and_postgresql_faults_are_recognised() -> None:
    assert faults.classify(OSError(errno.ENOSPC, "No space left on device")) is Fault.FULL
    assert faults.classify(OSError(errno.EDQUOT, "Disk quota exceeded")) is Fault.FULL
    assert faults.classify(OSError(errno.EROFS, "Read-only file system")) is Fault.READ_ONLY
    assert faults.classify(OSError(errno.ENOENT, "No such file")) is None
    assert faults.classify(ValueError("nope")) is None

    class PgError(Exception):  # the shape of SQLAlchemy's asyncpg adapter errors
        def __init__(self, sqlstate: str) -> None:
            super().__init__("pg")
            self.sqlstate = sqlstate

    assert faults.classify(sa.exc.DBAPIError("x", {}, PgError("53100"))) is Fault.FULL
    assert faults.classify(sa.exc.DBAPIError("x", {}, PgError("25006"))) is Fault.READ_ONLY
    assert faults.classify(sa.exc.DBAPIError("x", {}, PgError("23505"))) is None


def test_a_fault_is_logged_once_a_minute(monkeypatch, caplog) -> None:
    now = [1000.0]
    monkeypatch.setattr(faults.time, "monotonic", lambda: now[0])
    reporter = faults.Reporter()
    caplog.set_level(logging.INFO, logger="server.storage.faults")
    exc = OSError(errno.ENOSPC, "No space left on device")
    for _ in range(50):
        reporter.report(Fault.FULL, exc, "POST /api/v1/statuses")
        now[0] += 1
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    now[0] += 60
    reporter.report(Fault.FULL, exc, "POST /api/v1/statuses")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and "storage is full" in errors[1] and "49 more" in errors[1]


# --- a small file system -------------------------------------------------------------------------


def _mount(target: Path, options: str) -> None:
    subprocess.run(["mount", *options.split(), str(target)], check=True, capture_output=True)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs of our own, unmounted afterwards; skipped where mounting is not allowed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    target = tmp_path / "fs"
    target.mkdir()
    try:
        _mount(target, "-t tmpfs -o size=24m tmpfs")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {exc}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def _png() -> aiohttp.FormData:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    form = aiohttp.FormData()
    form.add_field("file", out.getvalue(), filename="red.png", content_type="image/png")
    return form


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


async def test_a_full_disk_is_507_with_a_message_and_reads_keep_working(
    make_instance, small_fs: Path, caplog
) -> None:
    data = small_fs / "data"
    db_file = data / "koers.sqlite3"
    sender = await make_instance(run_workers=False)
    await sender.create_member("alice")
    inst = await make_instance(
        run_workers=False, data_dir=str(data), database_url=f"sqlite:///{db_file}"
    )
    await inst.create_member("ana")
    token = await api_token(inst, "ana")
    auth = {"Authorization": f"Bearer {token}"}
    c = inst.client
    page = await inst.login("ana")
    assert (await c.post("/api/v1/statuses", json={"status": "before"}, headers=auth)).status == 200
    alice = await signer_for(sender, "alice")
    first = alice.activity("Follow", object=f"{inst.url}/users/ana")
    assert (await post_activity(f"{inst.url}/users/ana/inbox", first, alice))[0] == 202

    # the WAL is emptied first, so every later write needs new room on the disk
    sqlite3.connect(db_file).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    media_before = _files(inst.settings.media_dir)
    async with inst.db.read() as conn:
        rows_before = (await conn.execute(sa.select(sa.func.count()).select_from(t.media))).scalar()
    filler = _fill(small_fs)
    caplog.set_level(logging.INFO)

    resp = await c.post("/api/v1/statuses", json={"status": "lost"}, headers=auth)
    assert resp.status == 507, await resp.text()
    assert "storage is full" in (await resp.json())["error"]
    assert resp.headers["Retry-After"] == "60"
    resp = await c.post("/api/v2/media", data=_png(), headers=auth)
    assert resp.status == 507 and "storage is full" in (await resp.json())["error"]
    assert _files(inst.settings.media_dir) == media_before  # no file without its row
    html = await page.get("/compose")
    assert html.status == 200
    token_field = 'name="_csrf" value="'
    csrf = (await html.text()).split(token_field, 1)[1].split('"', 1)[0]
    resp = await page.post(
        "/compose", data={"_csrf": csrf, "status": "lost too", "audience": "public"}
    )
    assert resp.status == 507 and "text/html" in resp.headers["Content-Type"]
    assert "storage is full" in await resp.text()
    activity = alice.activity("Like", object=f"{inst.url}/users/ana")
    status, _ = await post_activity(f"{inst.url}/users/ana/inbox", activity, alice)
    assert status == 503  # the sender retries later

    # reads keep working
    timeline = await c.get("/api/v1/timelines/public?local=true")
    assert timeline.status == 200
    assert [s["content"] for s in await timeline.json()] == ["<p>before</p>"]
    assert (await c.get("/@ana")).status == 200
    async with inst.db.read() as conn:
        rows = (await conn.execute(sa.select(sa.func.count()).select_from(t.media))).scalar()
    assert rows == rows_before  # no row without its file
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "storage is full" in errors[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per request

    filler.unlink()  # room again: writes work at once
    resp = await c.post("/api/v1/statuses", json={"status": "after"}, headers=auth)
    assert resp.status == 200


async def test_a_read_only_media_folder_is_503_and_leaves_no_row(make_instance, small_fs) -> None:
    inst = await make_instance(run_workers=False)
    await inst.create_member("ana")
    token = await api_token(inst, "ana")
    media_dir = inst.settings.media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    # the media folder becomes a read-only view of the small file system
    _mount(media_dir, f"--bind {small_fs}")
    try:
        _mount(media_dir, "-o remount,ro,bind")
        resp = await inst.client.post(
            "/api/v2/media", data=_png(), headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status == 503, await resp.text()
        assert "read-only" in (await resp.json())["error"] and resp.headers["Retry-After"]
    finally:
        subprocess.run(["umount", str(media_dir)], check=False, capture_output=True)
    async with inst.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.media))).scalar() == 0


# --- refusing to start ---------------------------------------------------------------------------


def _live_copy(source: Path, target: Path) -> None:
    """Copy a data directory while a connection holds it open, as a crash leaves it (-wal, -shm)."""
    conn = sqlite3.connect(source / "koers.sqlite3")
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("CREATE TABLE IF NOT EXISTS crash_marker (x)")
    conn.execute("INSERT INTO crash_marker VALUES (1)")
    conn.commit()
    target.mkdir()
    for name in ("koers.sqlite3", "koers.sqlite3-wal", "koers.sqlite3-shm"):
        (target / name).write_bytes((source / name).read_bytes())
    (target / "media").mkdir()
    conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("left", ["cleanly", "by a crash"])
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_koers_refuses_a_read_only_data_directory(
    small_fs: Path, tmp_path: Path, left: str, command: str
) -> None:
    from tests.conftest import free_port
    from tests.test_cli import assert_one_line_error, koers

    env = {"KOERS_SECRET": "s" * 40, "KOERS_PORT": str(free_port())}
    live = tmp_path / "live"
    made = koers("migrate", tmp_path=tmp_path, env={**env, "KOERS_DATA_DIR": str(live)})
    assert made.returncode == 0, made.stderr
    data = small_fs / "data"
    if left == "cleanly":
        data.mkdir()
        for item in live.iterdir():
            if item.is_file() and not item.name.endswith(("-wal", "-shm")):
                (data / item.name).write_bytes(item.read_bytes())
        (data / "media").mkdir()
    else:
        _live_copy(live, data)
        assert (data / "koers.sqlite3-wal").exists()
    _mount(small_fs, "-o remount,ro")
    proc = koers(command, tmp_path=tmp_path, env={**env, "KOERS_DATA_DIR": str(data)})
    assert_one_line_error(proc, "data directory", str(data), "read-only")
    assert "cannot reach" not in proc.stderr


@pytest.mark.slow
def test_koers_refuses_a_full_data_directory(small_fs: Path, tmp_path: Path) -> None:
    from tests.conftest import free_port
    from tests.test_cli import assert_one_line_error, koers

    env = {"KOERS_SECRET": "s" * 40, "KOERS_PORT": str(free_port())}
    data = small_fs / "data"
    made = koers("migrate", tmp_path=tmp_path, env={**env, "KOERS_DATA_DIR": str(data)})
    assert made.returncode == 0, made.stderr
    _fill(small_fs)
    proc = koers("serve", tmp_path=tmp_path, env={**env, "KOERS_DATA_DIR": str(data)})
    assert_one_line_error(proc, "data directory", "is full")


async def test_a_read_only_postgresql_database_is_refused_at_start(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from server.config import load_settings
    from server.errors import ConfigError
    from server.storage.db import Database
    from tests.conftest import PG_URL, _pg_admin_url, _pg_exec, _with_db

    if not PG_URL:
        pytest.skip("KOERS_TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    name = f"koers_ro_{os.getpid()}"
    await _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        await _pg_exec(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        url = _with_db(_pg_admin_url(), name)
        settings = load_settings(env={}, data_dir=str(tmp_path / "data"), database_url=url)
        settings.media_dir.mkdir(parents=True)
        db = Database(settings.database_url)
        try:
            with pytest.raises(ConfigError, match="is read-only") as refused:
                await faults.check_writable(settings, db)
            assert make_url(url).password is None or make_url(url).password not in str(
                refused.value
            )
        finally:
            await db.close()
    finally:
        await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
