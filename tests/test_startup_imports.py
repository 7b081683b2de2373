"""Start-up loads only what the deployment uses: an instance on SQLite, without OpenID Connect,
SMTP or push, started on a database already at head and answering its first page, has imported
none of the libraries those features need (each is imported where it is first used: see the
small ``_jose`` / ``_pyotp`` / ``dialect_insert`` helpers and the imports inside functions)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# a fresh interpreter, so nothing this test process imported counts
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

# Libraries a SQLite instance without those features must not load to start and serve a page.
NOT_AT_START = (
    "asyncpg",  # PostgreSQL driver
    "alembic",  # migrations: the schema is at head, checked by reading the scripts
    "mako",  # Alembic's templates
    "PIL",  # media: until the first upload
    "icalendar",  # calendar feeds
    "pygments",
    "joserfc",  # OpenID Connect: not configured
    "aiosmtplib",  # SMTP: not configured (mail goes to .eml files)
    "pyotp",  # two-factor codes: until one is set up or checked
    "segno",  # the two-factor set-up page's QR code
    "py_vapid",  # Web Push: until an app asks for the key or a push goes out
    "http_ece",
    "sqlalchemy.dialects.postgresql",  # its partial indexes' WHERE waits for PostgreSQL's DDL
    "sqlalchemy.orm",  # Core only: sqlalchemy.ext.asyncio without its AsyncSession (async_core)
    "tarfile",  # backups: the backup and restore commands
    "xml.etree",  # Atom feeds: until the first feed is asked for
    "nh3",  # the HTML sanitiser: until text is first written or rendered from remote HTML
)

# Loaded by the first start of a new data directory (the instance actor's key pair is made), but
# not by a start on an existing one: keys and signatures wait for the first signed request, a
# push or a two-factor secret.
NOT_AT_RESTART = ("cryptography",)

PROBE = """
import asyncio, importlib, json, os, sys
for name in filter(None, os.environ.get("PROBE_IMPORT", "").split(",")):
    importlib.import_module(name)
from aiohttp import ClientSession, web
from server.app import create_app
from server.config import load_settings

async def main() -> None:
    settings = load_settings()
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/") as resp:
            status = resp.status
    await runner.cleanup()
    print(json.dumps({"status": status, "modules": sorted(sys.modules)}))

asyncio.run(main())
"""


def _start(tmp_path: Path, template: Path, extra: dict[str, str]) -> dict:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    if not (data / "koers.sqlite3").exists():  # a second start keeps the first one's data
        shutil.copy(template, data / "koers.sqlite3")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "KOERS_DATA_DIR": str(data),
        "KOERS_URL": "http://127.0.0.1:8080",
        "KOERS_SECRET": "s" * 40,
        **extra,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_a_sqlite_instance_starts_without_the_libraries_it_does_not_use(
    tmp_path: Path, sqlite_template: Path
) -> None:
    found = _start(tmp_path, sqlite_template, {})
    assert found["status"] == 200
    loaded = [name for name in NOT_AT_START if _loaded(found["modules"], name)]
    assert loaded == [], f"imported at start-up: {loaded}"


def test_a_restart_loads_no_cryptography(tmp_path: Path, sqlite_template: Path) -> None:
    first = _start(tmp_path, sqlite_template, {})
    assert [n for n in NOT_AT_RESTART if _loaded(first["modules"], n)] == ["cryptography"]
    again = _start(tmp_path, sqlite_template, {})
    assert again["status"] == 200
    loaded = [name for name in NOT_AT_START + NOT_AT_RESTART if _loaded(again["modules"], name)]
    assert loaded == [], f"imported at a restart: {loaded}"


def test_the_probe_finds_a_library_that_was_imported(tmp_path: Path, sqlite_template: Path) -> None:
    """The check can fail: a module imported at start-up shows up in the list."""
    found = _start(tmp_path, sqlite_template, {"PROBE_IMPORT": "pyotp"})
    assert found["status"] == 200
    assert [n for n in NOT_AT_START if _loaded(found["modules"], n)] == ["pyotp"]
