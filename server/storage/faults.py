"""Storage faults: a full or read-only disk or database, recognised wherever it surfaces.

``classify`` names the fault behind an exception (``FULL`` or ``READ_ONLY``), from SQLite's
``SQLITE_FULL``/``SQLITE_READONLY``, PostgreSQL's ``53100 disk_full`` and
``25006 read_only_sql_transaction``, and ``ENOSPC``/``EDQUOT``/``EROFS`` from the file system (media
files). The error middleware answers such a fault with 507 or 503 and a clear message instead of a
500; ``report`` logs it at most once a minute per kind, however many requests hit it.

``check_writable`` refuses to start on a data directory or database that cannot be written, so a
read-only mount (cleanly closed, or left by a crash with its ``-wal``/``-shm`` files) or a full disk
is one clear line at start, not a server whose every write fails.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa

from server.config import Settings
from server.errors import ConfigError
from server.storage.db import Database, safe_url

log = logging.getLogger(__name__)


class Fault(enum.Enum):
    """What is wrong with the storage."""

    FULL = "full"
    READ_ONLY = "read_only"


MESSAGES = {
    Fault.FULL: "the server's storage is full, so nothing was saved; please try again later",
    Fault.READ_ONLY: (
        "the server's storage is read-only for now, so nothing was saved; please try again later"
    ),
}
REPORT_EVERY = 60.0  # seconds between two log lines of the same fault

_OS_FAULTS = {errno.ENOSPC: Fault.FULL, errno.EDQUOT: Fault.FULL, errno.EROFS: Fault.READ_ONLY}
_SQLITE_FAULTS = {sqlite3.SQLITE_FULL: Fault.FULL, sqlite3.SQLITE_READONLY: Fault.READ_ONLY}
_PG_FAULTS = {"53100": Fault.FULL, "25006": Fault.READ_ONLY}


def classify(exc: BaseException) -> Fault | None:
    """The storage fault behind ``exc`` (or its causes), or None for any other error."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        fault = _one(e)
        if fault is not None:
            return fault
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return None


def _one(e: BaseException) -> Fault | None:
    if isinstance(e, sqlite3.Error):
        code = getattr(e, "sqlite_errorcode", None)
        # extended codes (SQLITE_READONLY_DBMOVED …) keep the primary code in the low byte
        return _SQLITE_FAULTS.get(code & 0xFF) if isinstance(code, int) else None
    if isinstance(e, OSError):
        return _OS_FAULTS.get(e.errno or 0)
    sqlstate = getattr(e, "sqlstate", None)
    return _PG_FAULTS.get(sqlstate) if isinstance(sqlstate, str) else None


class Reporter:
    """Logs each kind of fault at most once per ``REPORT_EVERY`` seconds."""

    def __init__(self) -> None:
        self._last: dict[Fault, float] = {}
        self._quiet: dict[Fault, int] = {}

    def report(self, fault: Fault, exc: BaseException, where: str) -> None:
        """Log ``fault`` (met at ``where``) unless it was logged less than a minute ago."""
        now = time.monotonic()
        if now - self._last.get(fault, -REPORT_EVERY) < REPORT_EVERY:
            self._quiet[fault] = self._quiet.get(fault, 0) + 1
            log.debug("storage %s again at %s", fault.value, where)
            return
        self._last[fault] = now
        also = self._quiet.pop(fault, 0)
        log.error(
            "storage is %s: writes are refused until it is fixed (%s at %s; %d more since the "
            "last report)",
            fault.value.replace("_", "-"),
            _first_line(exc),
            where,
            also,
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _state(fault: Fault | None) -> str:
    if fault is Fault.FULL:
        return "is full"
    return "is read-only" if fault is Fault.READ_ONLY else "cannot be written"


def _probe_dir(folder: Path, what: str) -> None:
    probe = folder / f".koers-write-check-{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"k" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        state = _state(_OS_FAULTS.get(exc.errno or 0))
        raise ConfigError(f"the {what} {folder} {state} ({exc.strerror})") from None
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            log.debug("could not remove the write check %s", probe)


async def check_writable(settings: Settings, db: Database) -> None:
    """Refuse (``ConfigError``) to run on a data directory or database that cannot be written."""
    _probe_dir(settings.data_dir, "data directory")
    _probe_dir(settings.media_dir, "media directory")
    url = sa.engine.make_url(db.url)
    is_sqlite = url.get_backend_name() == "sqlite"
    if is_sqlite and url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        if folder.resolve() != settings.data_dir.resolve():
            _probe_dir(folder, "database directory")
    await db.check()
    try:
        async with db.engine.connect() as conn:
            if is_sqlite:
                # a schema change rolled back: needs the write lock, leaves nothing behind
                trans = await conn.begin()
                await conn.exec_driver_sql("CREATE TABLE koers_write_check (x INTEGER)")
                await trans.rollback()
            else:
                ro = (await conn.exec_driver_sql("SHOW transaction_read_only")).scalar()
                if ro == "on":
                    raise ConfigError(
                        f"the database {safe_url(db.url)} is read-only "
                        "(a standby, or default_transaction_read_only is on)"
                    )
    except sa.exc.DBAPIError as exc:
        state = _state(classify(exc))
        raise ConfigError(
            f"the database {safe_url(db.url)} {state} ({_first_line(exc.orig or exc)})"
        ) from None
