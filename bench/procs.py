"""Processes of a benchmark run: Koers (``serve --no-workers`` or ``worker``) with its statements
counted, and the bare handler; their CPU time and memory read from ``/proc``."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.counting import open_counters

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants_cpu(pid: int) -> float:
    """CPU seconds of the processes started by ``pid`` and theirs (e.g. a signing pool)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            total += cpu_seconds(child)
        except OSError:
            continue
        todo.extend(children.get(child, []))
    return total


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Proc:
    """A started process, its port (0 for a worker) and, for Koers, its statement counters."""

    proc: subprocess.Popen[bytes]
    port: int
    started: float
    counter: Path | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss(self) -> float:
        return rss_mib(self.proc.pid)

    def counts(self) -> tuple[int, int, int]:
        """(SQLAlchemy statements, transactions, SQLite statements) so far."""
        if self.counter is None or not self.counter.exists():
            return (0, 0, 0)
        mm, counts = open_counters(str(self.counter), create=False)
        values = (counts[0], counts[1], counts[2])
        counts.release()
        mm.close()
        return values

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def koers_env(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def start_koers(
    args: list[str], settings: dict[str, str], workdir: Path, name: str, port: int = 0
) -> Proc:
    """``koers ARGS`` under the statement counter, logging to ``workdir/name.log``."""
    counter = workdir / f"{name}.counts"
    log = workdir / f"{name}.log"
    env = koers_env({**settings, "KOERS_BENCH_COUNTER": str(counter)})
    if port:
        env |= {"KOERS_HOST": "127.0.0.1", "KOERS_PORT": str(port)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.counting", *args],
        cwd=workdir,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return Proc(proc, port, started, counter, log)


def start_bare(workdir: Path) -> Proc:
    port = free_port()
    env = koers_env({})
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Proc(proc, port, started)


async def wait_ready(p: Proc, path: str = "/", timeout: float = 180) -> float:
    """Seconds from the process start to its first 200 on ``path``."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if not p.alive():
                log = p.log.read_text()[-3000:] if p.log else ""
                raise SystemExit(f"bench: a server process ended at start:\n{log}")
            try:
                async with session.get(p.base + path) as resp:
                    if resp.status == 200:
                        return time.monotonic() - p.started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)
    raise SystemExit(f"bench: no 200 from {p.base}{path} within {timeout:.0f} s")
