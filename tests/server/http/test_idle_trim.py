"""``server.http.idle_trim``: the heap is trimmed once after each burst of responses, never while
they keep coming, and only where glibc's ``malloc_trim`` exists."""

from __future__ import annotations

import platform
import sys
from typing import Any

import pytest
from aiohttp import web

from server.http import idle_trim


def _counting() -> tuple[idle_trim.IdleTrim, list[int]]:
    calls: list[int] = []
    return idle_trim.IdleTrim(lambda: calls.append(1)), calls


async def test_one_trim_after_a_burst_once_a_period_is_quiet() -> None:
    idle, calls = _counting()
    idle.tick()
    assert calls == []  # nothing went out yet: nothing to give back
    for _ in range(3):  # a burst over three periods
        await idle.responded(Any, Any)  # type: ignore[arg-type]
        idle.tick()
    assert calls == []  # never while responses keep coming
    idle.tick()  # a quiet period
    assert calls == [1]
    idle.tick()
    idle.tick()
    assert calls == [1] and idle.trims == 1  # once per burst
    await idle.responded(Any, Any)  # type: ignore[arg-type]
    idle.tick()
    idle.tick()
    assert calls == [1, 1]


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_glibc_has_the_trim_and_it_runs() -> None:
    trim = idle_trim.malloc_trim()
    assert trim is not None
    trim()


def test_without_malloc_trim_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idle_trim.sys, "platform", "darwin")
    assert idle_trim.malloc_trim() is None
    app = web.Application()
    assert idle_trim.install(app) is None
    assert list(app.on_response_prepare) == [] and list(app.cleanup_ctx) == []


def test_installed_it_hears_every_response_and_runs_with_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(idle_trim, "malloc_trim", lambda: lambda: None)
    app = web.Application()
    idle = idle_trim.install(app)
    assert idle is not None
    assert idle.responded in list(app.on_response_prepare)
    assert len(list(app.cleanup_ctx)) == 1


@pytest.mark.slow
async def test_koers_serve_installs_it(
    tmp_path: Any, sqlite_template: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import socket

    from server import cli
    from server.config import ensure_data_dir, load_settings

    installed: list[web.Application] = []
    monkeypatch.setattr(idle_trim, "install", installed.append)
    shutil.copy(sqlite_template, tmp_path / "koers.sqlite3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ensure_data_dir(
        load_settings(
            env={},
            url="http://127.0.0.1:8080",
            host="127.0.0.1",
            port=port,
            data_dir=str(tmp_path / "data"),
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'koers.sqlite3'}",
            secret="idle-trim-" + "x" * 32,
            run_workers=False,
        )
    )
    runner, db = await cli._start_server(settings)
    try:
        assert installed == [runner.app]
    finally:
        await runner.cleanup()
        await db.close()
