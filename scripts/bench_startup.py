"""Measure start-up: time from launch to the first 200, idle RSS, and modules imported.

    python scripts/bench_startup.py [--data-dir DIR] [--runs 3]

The data directory is created and migrated first when it does not exist, so every timed start is
a start on an existing data directory (the common case: a restart).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROBE = "/api/v1/instance"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """The resident set size of ``pid`` in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KOERS_DATA_DIR=str(data_dir),
        KOERS_PORT=str(port),
        KOERS_URL=f"http://127.0.0.1:{port}",
        KOERS_SECRET="bench-startup-secret",
    )
    return env


def _wait_200(url: str, proc: subprocess.Popen[bytes], limit: float = 60.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.01)
    raise SystemExit(f"no 200 from {url} within {limit:.0f}s")


def one_start(data_dir: Path, idle: float) -> tuple[float, float]:
    """Start ``koers serve`` once: (seconds to the first 200, RSS in MiB after ``idle`` seconds)."""
    port = _port()
    launched = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve"],
        env=_env(data_dir, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = _wait_200(f"http://127.0.0.1:{port}{PROBE}", proc)
        time.sleep(idle)
        return ready - launched, rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def modules_imported(data_dir: Path) -> int:
    """How many modules a server has imported once it answered its first request."""
    code = (
        "import asyncio, sys\n"
        "from aiohttp.test_utils import TestClient, TestServer\n"
        "from server.app import create_app\n"
        "from server.config import load_settings\n"
        "async def main():\n"
        "    async with TestClient(TestServer(create_app(load_settings()))) as c:\n"
        f"        assert (await c.get('{PROBE}')).status == 200\n"
        "    print(len(sys.modules))\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(data_dir, _port()),
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before RSS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if not data_dir.exists():
            env = _env(data_dir, _port())
            subprocess.run([sys.executable, "-m", "server.cli", "migrate"], env=env, check=True)
            one_start(data_dir, 0)  # the first start creates the organisation and keys
        results = [one_start(data_dir, args.idle) for _ in range(args.runs)]
        starts = sorted(r[0] for r in results)
        rss = sorted(r[1] for r in results)
        print(f"start to first 200: median {starts[len(starts) // 2]:.2f}s (all {starts})")
        print(f"idle RSS: median {rss[len(rss) // 2]:.1f} MiB")
        print(f"modules imported by the first answer: {modules_imported(data_dir)}")


if __name__ == "__main__":
    main()
