"""``koers feeds rebuild``: builds every local account's home feed (or one's) from the posts, with
progress, so the home timeline reads from the feed exactly what it read from the posts."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.cli import main
from server.config import load_settings
from server.context import Context
from server.services import accounts, follows, posts, timelines
from server.services.posts import Draft
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import Viewer
from tests import fast
from tests.conftest import PASSWORD, UNIT_URL


def _home_both_ways(conn: sa.Connection, me: int) -> tuple[list[int], list[int]]:
    viewer = Viewer(actor_id=me, local=True)
    page = timelines.Page(limit=40)
    fed = timelines.home_ids(conn, viewer, page)
    return fed, timelines._feed_ids(conn, timelines._home, viewer, page)


async def _world(url: str, data: Path) -> dict[str, Any]:
    """ana, bo and cy; bo follows ana and cy; posts written with no feed kept (no listeners)."""
    db = Database(url)
    settings = load_settings(
        env={}, url=UNIT_URL, data_dir=str(data), database_url=url, secret="s" * 40
    )
    ctx = Context(db, settings)
    ids = {}
    for name in ("ana", "bo", "cy"):
        account = await accounts.create_account(
            db, settings, username=name, email=f"{name}@example.test", password=PASSWORD
        )
        ids[name] = account.actor_id
    for name in ("ana", "cy"):
        await follows.follow(ctx, ids["bo"], ids[name])
    for i in range(5):
        for name in ("ana", "bo", "cy"):
            await posts.create_post(ctx, ids[name], Draft(source=f"{name} {i}"))
    await db.close()
    return ids


async def _state(url: str, me: int) -> tuple[int, list[int], list[int]]:
    db = Database(url)
    try:
        built = await db.read(
            lambda conn: conn.execute(sa.select(sa.func.count()).select_from(t.home_feeds)).scalar()
        )
        fed, plain = await db.read(_home_both_ways, me)
    finally:
        await db.close()
    return built, fed, plain


def test_rebuild_builds_every_feed_or_one(
    unit_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(accounts, "generate_key_pair", fast.KEYS.take)
    monkeypatch.setattr(accounts, "_hasher", fast.CHEAP_HASHER)
    for name in list(os.environ):
        if name.startswith("KOERS_"):
            monkeypatch.delenv(name)
    path = tmp_path / "koers.sqlite3"
    shutil.copy(unit_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    ids = asyncio.run(_world(url, tmp_path / "data"))
    args = ["--data-dir", str(tmp_path / "data"), "--database-url", url, "--url", UNIT_URL]

    assert main(["feeds", "rebuild", "--account", "bo", *args]) == 0
    out = capsys.readouterr().out
    assert "1 / 1 feeds, 15 rows" in out and "rebuilt 1 home feeds (15 rows)" in out
    built, fed, plain = asyncio.run(_state(url, ids["bo"]))
    assert built == 1 and fed == plain and len(fed) == 15

    assert main(["feeds", "rebuild", *args]) == 0
    out = capsys.readouterr().out
    assert "3 / 3 feeds" in out and "rebuilt 3 home feeds (25 rows)" in out  # 15 + 5 + 5
    assert asyncio.run(_state(url, ids["ana"]))[0] == 3

    assert main(["feeds", "rebuild", "--account", "nobody", *args]) == 2
    assert "no local account @nobody" in capsys.readouterr().err
