"""Run the ``koers`` command line with database statements counted, for ``bench/run.py``.

    KOERS_BENCH_COUNTER=FILE python -m bench.counting serve --no-workers --port 8081

Before Koers is imported this installs, from the benchmark's side, an SQLAlchemy event listener
on every engine (statements sent to the driver and transactions begun) and a trace callback on
every ``sqlite3`` connection (statements SQLite runs, for code that bypasses SQLAlchemy). The
counts live in a small memory-mapped file the benchmark reads while the server runs:
``[sqlalchemy statements, sqlalchemy transactions, sqlite statements]``.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import sqlite3.dbapi2
import sys
from typing import Any

SLOTS = 3
SIZE = 8 * SLOTS


def open_counters(path: str, *, create: bool) -> tuple[mmap.mmap, memoryview]:
    """The shared counters at ``path`` as unsigned 64-bit integers."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        if create:
            os.ftruncate(fd, SIZE)
        mm = mmap.mmap(fd, SIZE)
    finally:
        os.close(fd)
    return mm, memoryview(mm).cast("Q")


def install(counts: memoryview) -> None:
    """Count statements and transactions in this process from now on."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def statement(*_args: Any) -> None:
        counts[0] += 1

    def begin(_conn: Any) -> None:
        counts[1] += 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "begin", begin)

    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)

        def trace(_sql: str) -> None:
            counts[2] += 1

        conn.set_trace_callback(trace)
        return conn

    # SQLAlchemy's pysqlite dialect connects through ``sqlite3.dbapi2``, aiosqlite through
    # ``sqlite3``: both are traced
    sqlite3.connect = traced  # type: ignore[assignment]
    sqlite3.dbapi2.connect = traced  # type: ignore[assignment]


def main() -> int:
    path = os.environ["KOERS_BENCH_COUNTER"]
    _mm, counts = open_counters(path, create=True)
    install(counts)
    from server.cli import main as koers

    return int(koers(sys.argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
