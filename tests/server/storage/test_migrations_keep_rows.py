"""Upgrading keeps every row: a database with data at each older revision is upgraded to head
and loses nothing. (On SQLite an ALTER rebuilds the table; with foreign keys on, the rebuild of
``actors`` once deleted every post, follow and favourite through ``ON DELETE CASCADE``.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from server.storage import fulltext, revisions
from server.storage.db import Database

STAMP = "2026-01-01 00:00:00"
# the rows every table that others point at needs, spelled for the oldest schema
ROWS = [
    (
        "actors",
        {
            "id": 1,
            "uri": "https://k.test/users/ana",
            "kind": "person",
            "username": "ana",
            "created_at": STAMP,
            "updated_at": STAMP,
        },
    ),
    (
        "actors",
        {
            "id": 2,
            "uri": "https://k.test/users/bo",
            "kind": "person",
            "username": "bo",
            "created_at": STAMP,
            "updated_at": STAMP,
        },
    ),
    (
        "users",
        {
            "id": 1,
            "actor_id": 1,
            "email": "ana@k.test",
            "password_hash": "x",
            "created_at": STAMP,
        },
    ),
    (
        "posts",
        {
            "id": 1,
            "uri": "https://k.test/users/ana/posts/1",
            "author_id": 1,
            "local": 1,
            "audience": "public",
            "created_at": STAMP,
        },
    ),
    (
        "follows",
        {"id": 1, "follower_id": 2, "target_id": 1, "state": "accepted", "created_at": STAMP},
    ),
    ("favourites", {"id": 1, "actor_id": 2, "post_id": 1, "created_at": STAMP}),
]


def _fill(conn: sa.Connection, table: str, values: dict) -> None:
    """Insert ``values``, giving every other NOT NULL column without a default a plain value."""
    columns = sa.inspect(conn).get_columns(table)
    row = dict(values)
    for column in columns:
        name = column["name"]
        if name in row or column["nullable"] or column.get("default") is not None:
            continue
        kind = str(column["type"]).upper()
        row[name] = (
            0
            if any(k in kind for k in ("INT", "BOOL"))
            else STAMP
            if "DATE" in kind or "TIME" in kind
            else "{}"
            if "JSON" in kind
            else "x"
        )
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), row)


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in {t for t, _ in ROWS}
        }
    engine.dispose()
    return out


def _older_revisions() -> list[str]:
    script = ScriptDirectory.from_config(revisions.alembic_config("sqlite://"))
    ordered = [r.revision for r in script.walk_revisions()]  # head first
    return list(reversed(ordered))[:-1]


@pytest.mark.parametrize("revision", _older_revisions())
async def test_upgrading_from_an_older_revision_keeps_every_row(
    tmp_path: Path, revision: str
) -> None:
    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _fk_on(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        fulltext.register(dbapi_conn)  # as every connection Koers opens: the index's triggers

    with engine.begin() as conn:
        cfg = revisions.alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        for table, values in ROWS:
            _fill(conn, table, values)
    engine.dispose()
    before = _counts(url)
    assert all(before.values()), before

    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        assert await revisions.upgrade(db)
        assert await revisions.current_revisions(db) == revisions.head_revisions()
        async with db.read() as conn:
            on = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
    finally:
        await db.close()
    assert on == 1, "foreign keys are on again after the upgrade"
    assert _counts(url) == before
