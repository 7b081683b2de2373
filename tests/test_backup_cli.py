"""``koers backup`` beside a serving ``koers serve`` with statuses being posted, then ``koers restore``.

Real processes, as an operator runs them: everything posted before the backup started is in the
restored database; the errors are one line each.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.test_cli import ROOT, assert_one_line_error, koers

pytestmark = pytest.mark.slow


def _call(base: str, path: str, data: dict, token: str | None = None) -> dict:
    req = urllib.request.Request(
        base + path,
        data=urllib.parse.urlencode(data).encode(),
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_backup_while_serving_and_posting_then_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"KOERS_DATA_DIR": str(data), "KOERS_URL": base, "KOERS_PORT": str(port)}
    made = koers(
        "account", "create", "ana", "--email", "a@example.test", "--password",
        "correct horse battery", tmp_path=tmp_path, env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve"],
        env={**clean, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    posted: list[str] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/api/v1/instance", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        app = _call(base, "/api/v1/apps", {"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})  # fmt: skip
        token = _call(base, "/oauth/token", {
            "grant_type": "password", "username": "ana", "password": "correct horse battery",
            "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "read write",
        })["access_token"]  # fmt: skip

        def post_forever() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                posted.append(_call(base, "/api/v1/statuses", {"status": f"s{n}"}, token)["id"])

        for _ in range(20):
            posted.append(_call(base, "/api/v1/statuses", {"status": "first"}, token)["id"])
        writer = threading.Thread(target=post_forever, daemon=True)
        writer.start()
        time.sleep(0.5)
        before = list(posted)
        done = koers("backup", str(tmp_path / "b.tar.gz"), tmp_path=tmp_path, env=env)
        during = len(posted) - len(before)
        stop.set()
        writer.join(timeout=30)
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    assert done.returncode == 0, done.stderr
    assert "SQLite backup API" in done.stdout and "done:" in done.stdout
    assert during > 0, "nothing was posted while the backup ran"

    again = koers("backup", str(tmp_path / "b.tar.gz"), tmp_path=tmp_path, env=env)
    assert_one_line_error(again, "already exists")
    busy = koers("restore", str(tmp_path / "b.tar.gz"), tmp_path=tmp_path, env=env)
    assert_one_line_error(busy, "not empty")

    target = tmp_path / "restored"
    restored = koers(
        "restore",
        str(tmp_path / "b.tar.gz"),
        tmp_path=tmp_path,
        env={"KOERS_DATA_DIR": str(target)},
    )
    assert restored.returncode == 0, restored.stderr
    assert "files: restoring" in restored.stdout
    with sqlite3.connect(target / "koers.sqlite3") as conn:
        ids = {str(r[0]) for r in conn.execute("SELECT id FROM posts")}
        keys = conn.execute(
            "SELECT count(*) FROM actors WHERE private_key_pem IS NOT NULL"
        ).fetchone()
    assert set(before) <= ids and keys[0] >= 2
    assert (target / "secret.key").read_text() == (data / "secret.key").read_text()
    listed = koers("account", "list", tmp_path=tmp_path, env={"KOERS_DATA_DIR": str(target)})
    assert "ana" in listed.stdout
