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


@contextmanager
def demo_server(workdir: Path) -> Iterator[str]:
    """Start ``koers demo`` with its data in ``workdir``; yields its URL, stops it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env["PYTHONPATH"] = str(ROOT)
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "demo.log"
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
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    urllib.request.urlopen(url + "/", timeout=2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            "koers demo did not start:\n" + log_path.read_text()
                        ) from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
