"""Koers benchmarks: one command, loopback only, bounded in time.

    python bench/run.py [--requests N] [--seconds S]     (no --data: this demo benchmark)

Starts ``koers demo`` (the demo data, SQLite) in a temporary directory on a free 127.0.0.1 port
and prints:

- page latency p50/p95 (sequential requests) of ``/``, ``/@lotte``, ``/c/energy`` and ``/home``;
- the memory (RSS) of the server process, after start and after the runs;
- client API requests per second (concurrent clients) for ``GET /api/v1/timelines/home?limit=40``
  and ``POST /api/v1/statuses``, when the API answers;
- HTTP signature sign/verify per second (in this process), when ``federation.signatures`` exists.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DEMO_USER = "lotte"
DEMO_PASSWORD = "koers-demo"
PAGES = ("/", f"/@{DEMO_USER}", "/c/energy", "/home")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def start_demo(workdir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env["PYTHONPATH"] = str(ROOT)
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(workdir / "demo"),
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while "Koers demo is running" not in (workdir / "server.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit("bench: koers demo did not start:\n" + (workdir / "server.log").read_text())
        time.sleep(0.2)
    return proc


async def login(
    session: aiohttp.ClientSession, base: str, user: str = DEMO_USER, password: str = DEMO_PASSWORD
) -> None:
    """Sign in through the login form (the session keeps the cookie)."""
    html = await (await session.get(base + "/login")).text()
    token = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert token, "no CSRF token on /login"
    resp = await session.post(
        base + "/login",
        data={
            "login": user,
            "password": password,
            "_csrf": token.group(1),
            "next": "/home",
        },
        allow_redirects=False,
    )
    assert resp.status == 302, f"login failed: {resp.status}"


async def page_latency(
    session: aiohttp.ClientSession, base: str, path: str, n: int
) -> tuple[float, float, int]:
    for _ in range(5):  # warm-up: templates compiled, caches filled
        await (await session.get(base + path)).read()
    times = []
    status = 0
    for _ in range(n):
        t0 = time.perf_counter()
        resp = await session.get(base + path)
        await resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        status = resp.status
    return percentile(times, 50), percentile(times, 95), status


async def api_token(
    session: aiohttp.ClientSession, base: str, user: str = DEMO_USER, password: str = DEMO_PASSWORD
) -> str | None:
    """A bearer token with read and write scopes by the password grant; None without the API."""
    resp = await session.post(
        base + "/api/v1/apps",
        data={
            "client_name": "bench",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
    )
    if resp.status != 200:
        return None
    app = await resp.json()
    resp = await session.post(
        base + "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": user,
            "password": password,
            "scope": "read write",
        },
    )
    if resp.status != 200:
        return None
    return (await resp.json())["access_token"]


async def throughput(
    base: str, token: str, method: str, path: str, seconds: float, clients: int
) -> tuple[float, int, int]:
    """Requests per second with ``clients`` concurrent connections for ``seconds``; (rps, ok, errors)."""
    headers = {"Authorization": f"Bearer {token}"}
    ok = errors = 0
    stop = time.monotonic() + seconds
    counter = 0

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal ok, errors, counter
        while time.monotonic() < stop:
            counter += 1
            if method == "GET":
                resp = await session.get(base + path, headers=headers)
            else:
                data = {"status": f"bench post {counter}", "visibility": "private"}
                resp = await session.post(
                    base + path, headers={**headers, "Idempotency-Key": f"b{counter}"}, data=data
                )
            await resp.read()
            if resp.status == 200:
                ok += 1
            else:
                errors += 1

    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session) for _ in range(clients)))
    return ok / (time.monotonic() - start), ok, errors


def signature_rates(seconds: float) -> tuple[float, float] | None:
    try:
        from federation.signatures import KeyCache, sign_request, verify_request
    except ImportError:
        return None
    from server.services.keys import generate_key_pair

    private_pem, public_pem = generate_key_pair()
    keys = KeyCache()
    key_id = "https://bench.test/users/a#main-key"
    body = b'{"type": "Create"}'
    url = "https://remote.test/inbox"

    n, stop = 0, time.monotonic() + seconds
    start = time.monotonic()
    while time.monotonic() < stop:
        signed = sign_request(
            "POST",
            url,
            {"Content-Type": "application/activity+json"},
            body,
            key_id,
            private_pem,
            keys=keys,
        )
        n += 1
    sign_rate = n / (time.monotonic() - start)

    async def lookup(_key_id: str, _refresh: bool) -> tuple[str, str]:
        return public_pem, "https://bench.test/users/a"

    async def verify_loop() -> float:
        m, stop2 = 0, time.monotonic() + seconds
        t0 = time.monotonic()
        while time.monotonic() < stop2:
            await verify_request("POST", "/inbox", signed, body, lookup, keys=keys)
            m += 1
        return m / (time.monotonic() - t0)

    return sign_rate, asyncio.run(verify_loop())


async def measure(base: str, pid: int, n: int, seconds: float) -> None:
    print(f"server pid {pid}, RSS after start with demo data: {rss_mib(pid):.1f} MiB")
    print(f"\npage latency, {n} sequential requests each (ms):")
    print(f"  {'path':16} {'p50':>7} {'p95':>7}  status")
    # unsafe=True: keep cookies for an IP address (127.0.0.1), which aiohttp refuses by default.
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession() as anonymous,
        aiohttp.ClientSession(cookie_jar=jar) as member,
    ):
        await login(member, base)
        for path in PAGES:
            session = member if path == "/home" else anonymous
            p50, p95, status = await page_latency(session, base, path, n)
            print(f"  {path:16} {p50:7.1f} {p95:7.1f}  {status}")
        token = await api_token(anonymous, base)
    print(f"RSS after the page runs: {rss_mib(pid):.1f} MiB")

    if token is None:
        print("\nclient API: not available (no /api/v1/apps or password grant); skipped")
    else:
        print(f"\nclient API, {seconds:.0f} s each, 8 concurrent clients:")
        for method, path in (
            ("GET", "/api/v1/timelines/home?limit=40"),
            ("POST", "/api/v1/statuses"),
        ):
            rps, ok, errors = await throughput(base, token, method, path, seconds, 8)
            print(f"  {method:4} {path:34} {rps:8.1f} req/s  ({ok} ok, {errors} errors)")
        print(f"RSS after the API runs: {rss_mib(pid):.1f} MiB")
        if await add_filters(base, token, filters=10, keywords=5):
            path = "/api/v1/timelines/home?limit=40"
            rps, ok, errors = await throughput(base, token, "GET", path, seconds, 8)
            print(
                f"  GET  {path:34} {rps:8.1f} req/s  with 10 filters of 5 keywords ({ok} ok, {errors} errors)"
            )


async def add_filters(base: str, token: str, *, filters: int, keywords: int) -> bool:
    """Give the benchmark member ``filters`` warn filters on home; False when the server has none."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        for i in range(filters):
            body = {
                "title": f"bench {i}",
                "context": ["home"],
                "filter_action": "warn",
                "keywords_attributes": [
                    {"keyword": f"word{i}x{k}", "whole_word": True} for k in range(keywords)
                ],
            }
            async with session.post(f"{base}/api/v2/filters", json=body, headers=headers) as resp:
                if resp.status != 200:
                    return False
    return True


def push_rate(seconds: float) -> float | None:
    """Web Push messages prepared per second (aesgcm encryption and a VAPID signature), one core."""
    try:
        from server import push_worker
        from server.config import load_settings
    except ImportError:
        return None
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={}, data_dir=tmp, url="https://bench.test")
        receiver = ec.generate_private_key(ec.SECP256R1()).public_key()
        point = base64.urlsafe_b64encode(
            receiver.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        ).decode()
        auth = base64.urlsafe_b64encode(os.urandom(16)).decode()
        ctx = type("Ctx", (), {"settings": settings})()
        data = {
            "notification_id": "1",
            "notification_type": "mention",
            "title": "ann mentioned you",
            "body": "x" * 140,
        }
        n, start = 0, time.monotonic()
        while time.monotonic() - start < seconds:
            push_worker.encrypt(data, point, auth, standard=False)
            push_worker.headers_for(ctx, "https://push.bench.test/send/abc", standard=False)  # type: ignore[arg-type]
            n += 1
        return n / (time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=200, help="sequential requests per page (default 200)"
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="duration of each throughput run (default 5)"
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="koers-bench-"))
    port = free_port()
    print(f"starting koers demo on 127.0.0.1:{port} in {workdir} …", flush=True)
    t0 = time.monotonic()
    proc = start_demo(workdir, port)
    print(f"demo ready in {time.monotonic() - t0:.1f} s")
    try:
        asyncio.run(measure(f"http://127.0.0.1:{port}", proc.pid, args.requests, args.seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)

    rates = signature_rates(min(args.seconds, 3.0))
    if rates is None:
        print("\nHTTP signatures: federation.signatures not available; skipped")
    else:
        print(
            f"\nHTTP signatures (rsa-sha256, cached keys, one core): sign {rates[0]:,.0f}/s, verify {rates[1]:,.0f}/s"
        )
    pushes = push_rate(min(args.seconds, 3.0))
    if pushes is not None:
        print(f"Web Push (aesgcm + VAPID, one core): {pushes:,.0f} messages prepared/s")
    cpu = os.cpu_count()
    print(f"\nmachine: {cpu} cores, Python {sys.version.split()[0]}; loopback only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
