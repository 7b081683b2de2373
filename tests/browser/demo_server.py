"""``koers demo`` in a subprocess on a free loopback port: a real instance with the demo data,
for browser tests and the screenshot script."""

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

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "koers-demo"
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(workdir: Path, env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """One attempt: the demo loads its data, then binds its port; when another process took the
    port meanwhile the demo exits, and the caller tries again on another port."""
    port = _free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo", "--port", str(port)]
            + ["--data-dir", str(workdir / "data")],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline:
        # Ready when it says so: a server answering on the port may be someone else's.
        if "is running at" in log_path.read_text():
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                return proc, url
            except OSError:
                pass
        time.sleep(0.3)
    if proc.poll() is None:
        proc.kill()
    return proc, ""


@contextmanager
def demo_server(workdir: Path) -> Iterator[str]:
    """Start ``koers demo`` with its data in ``workdir``; yields its URL, stops it afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env["PYTHONPATH"] = str(ROOT)
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "demo.log"
    for _ in range(3):
        proc, url = _start(workdir, env, log_path)
        if url:
            break
    else:
        raise RuntimeError("koers demo did not start:\n" + log_path.read_text())
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
