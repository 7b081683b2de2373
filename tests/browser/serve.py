"""``koers serve`` in a subprocess for the browser tests: a free loopback port, its own SQLite
data dir, only the ``KOERS_*`` settings the test gives (none of the caller's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def koers_serve(folder: Path, env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``koers serve``, wait for its first page, yield its URL; stop it afterwards.

    Its output is in ``folder / "server.log"``.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(folder / "data"),
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("koers serve did not start:\n" + (folder / "server.log").read_text())
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
