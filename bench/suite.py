"""One benchmark run on a seeded data directory: each hot path of issue 13 against the bare
aiohttp handler, in the same run, on one backend with 1 or 2 web processes.

Order matters, so that no phase pays for another's work: the bare handler; Koers' web processes
(``serve --no-workers``): start-up, idle memory, the pages and the API, the posts (their
deliveries are queued, not sent); a worker that sends the queued deliveries to the loopback
sink; signed activities POSTed to the inbox (stored, 202); a worker that applies them; the bare
handler again (figures are compared with the mean of both).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench import loadgen
from bench.demo_run import api_token, login
from bench.fediverse import Actors, sign_post
from bench.procs import Proc, cpu_seconds, free_port, start_bare, start_koers, wait_ready
from bench.store import Store


@dataclass
class Options:
    data: Path
    made: dict[str, Any]
    database_url: str
    processes: int
    seconds: float
    requests: int
    posts: int
    activities: int
    concurrency: int = 16
    federation: bool = True
    pages: bool = True  # False: only what federation needs (posts queue the deliveries)


@dataclass
class Figure:
    """One line of the table."""

    name: str
    rate: float
    p50: float = float("nan")
    p99: float = float("nan")
    statements: float = float("nan")
    transactions: float = float("nan")
    cpu_ms: float = float("nan")
    ratio: float = float("nan")
    count: int = 0
    errors: int = 0
    note: str = ""
    db_cpu_ms: float = float("nan")


@dataclass
class Report:
    backend: str
    processes: int
    figures: list[Figure] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "figures": [asdict(f) for f in self.figures]}


class Snapshot:
    """CPU seconds and statement counts of some processes at one moment, and the CPU seconds of
    the PostgreSQL backends serving the benchmark's database (when the server runs here)."""

    def __init__(self, procs: list[Proc], db_pids: list[int] | None = None) -> None:
        self.procs = procs
        self.cpu = sum(p.cpu() for p in procs)
        counts = [p.counts() for p in procs]
        self.stmts = sum(c[0] for c in counts)
        self.txns = sum(c[1] for c in counts)
        self.traced = sum(c[2] for c in counts)
        self.db: dict[int, float] = {}
        for pid in db_pids or []:
            try:
                self.db[pid] = cpu_seconds(pid)
            except OSError:  # ended meanwhile, or a server on another machine
                continue

    def per(self, later: Snapshot, n: int) -> tuple[float, float, float, str]:
        """(statements, transactions, CPU ms) per item between two snapshots."""
        if n <= 0:
            return float("nan"), float("nan"), float("nan"), ""
        stmts, note = (later.stmts - self.stmts) / n, ""
        txns = later.txns - self.txns
        # statements SQLite ran, less each transaction's end (which SQLAlchemy does not count):
        # more than SQLAlchemy counted where prepared reads go straight to sqlite3
        traced = later.traced - self.traced - txns
        if traced > later.stmts - self.stmts:
            stmts, note = traced / n, "statements traced in sqlite3"
        return stmts, (later.txns - self.txns) / n, (later.cpu - self.cpu) * 1000 / n, note

    def db_ms(self, later: Snapshot, n: int) -> float:
        """Database-server CPU ms per item (backends started meanwhile count whole)."""
        if n <= 0 or not later.db:
            return float("nan")
        return sum(v - self.db.get(pid, 0.0) for pid, v in later.db.items()) * 1000 / n


class Run:
    def __init__(self, opts: Options) -> None:
        self.o = opts
        self.workdir = Path(tempfile.mkdtemp(prefix="koers-bench-run-"))
        self.backend = "postgresql" if opts.database_url.startswith("postgres") else "sqlite"
        self.report = Report(self.backend, opts.processes)
        self.host = urlsplit(opts.made["url"]).netloc
        self.settings = {
            "KOERS_DATA_DIR": str(opts.data),
            "KOERS_URL": opts.made["url"],
            "KOERS_ALLOW_PRIVATE_ADDRESSES": "on",
            "KOERS_RATE_LIMIT": "off",  # thousands of requests by one token from loopback
        }
        if opts.database_url:
            self.settings["KOERS_DATABASE_URL"] = opts.database_url
        self.bare: list[float] = []
        self.web: list[Proc] = []
        self.store: Store | None = None

    async def snapshot(self, procs: list[Proc]) -> Snapshot:
        pids = await self.store.backend_pids() if self.store is not None else []
        return Snapshot(procs, pids)

    def say(self, msg: str) -> None:
        print(f"  [{self.backend} ×{self.o.processes}] {msg}", flush=True)

    # --- the bare handler ------------------------------------------------------------------

    async def measure_bare(self) -> None:
        procs = [start_bare(self.workdir) for _ in range(self.o.processes)]
        try:
            for p in procs:
                await wait_ready(p, timeout=30)
            bases = [p.base for p in procs]
            await loadgen.run(bases, loadgen.fixed("GET", "/"), max_requests=200, max_seconds=2)
            before = Snapshot(procs)
            result = await self.load(bases, loadgen.fixed("GET", "/"))
            after = Snapshot(procs)
            self.bare.append(result.rate)
            _s, _t, cpu, _n = before.per(after, result.ok)
            self.say(f"bare handler: {result.rate:,.0f} req/s, {cpu:.3f} ms CPU per request")
            self.report.facts.setdefault("bare_cpu_ms", []).append(round(cpu, 4))
        finally:
            for p in procs:
                p.stop()

    async def load(self, bases: list[str], make: Any, **kw: Any) -> loadgen.LoadResult:
        return await loadgen.run(
            bases,
            make,
            concurrency=self.o.concurrency,
            max_requests=kw.pop("max_requests", self.o.requests),
            max_seconds=kw.pop("max_seconds", self.o.seconds),
            **kw,
        )

    # --- Koers ------------------------------------------------------------------------------

    async def start_web(self) -> None:
        for i in range(self.o.processes):
            port = free_port()
            p = start_koers(["serve", "--no-workers"], self.settings, self.workdir, f"web{i}", port)
            self.web.append(p)
            ready = await wait_ready(p)
            if i == 0:
                await asyncio.sleep(1.0)
                self.report.facts["start_to_first_200_s"] = round(ready, 2)
                self.report.facts["idle_rss_mib"] = round(p.rss(), 1)
                self.say(f"web process ready in {ready:.2f} s, idle RSS {p.rss():.0f} MiB")

    async def measure(
        self, name: str, make: Any, *, expect: tuple[int, ...] = (200,), warm: int = 10, **kw: Any
    ) -> Figure:
        bases = [p.base for p in self.web]
        for n in range(warm):
            method, path, headers, body = make(-1 - n)
            async with aiohttp.ClientSession() as s:
                async with s.request(method, bases[0] + path, headers=headers, data=body) as r:
                    await r.read()
                    if r.status not in expect:
                        raise SystemExit(f"bench: {name} answered {r.status}: {await r.text()}")
        before = await self.snapshot(self.web)
        result = await self.load(bases, make, expect=expect, **kw)
        after = await self.snapshot(self.web)
        stmts, txns, cpu, note = before.per(after, result.ok)
        figure = Figure(
            name,
            result.rate,
            result.percentile(50),
            result.percentile(99),
            stmts,
            txns,
            cpu,
            result.rate / self.bare_rate if self.bare else float("nan"),
            result.ok,
            result.errors,
            note,
        )
        figure.db_cpu_ms = before.db_ms(after, result.ok)
        if result.errors:
            figure.note = f"statuses {result.statuses}"
        self.report.figures.append(figure)
        self.say(f"{name}: {result.rate:,.1f} req/s, p50 {figure.p50:.1f} ms, {stmts:.1f} stmts")
        return figure

    @property
    def bare_rate(self) -> float:
        return sum(self.bare) / len(self.bare)

    async def credentials(self) -> tuple[str, str]:
        """A bearer token (password grant) and a session cookie (the login form) of bench."""
        base, made = self.web[0].base, self.o.made
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            token = await api_token(s, base, made["user"], made["password"])
            if token is None:
                raise SystemExit("bench: no token by the password grant")
            await login(s, base, made["user"], made["password"])
            cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
        return token, cookie

    async def measure_web(self) -> None:
        made = self.o.made
        token, cookie = await self.credentials()
        bearer = {"Authorization": f"Bearer {token}"}
        if self.o.pages:
            await self.measure_pages(bearer, cookie)

        def post(n: int) -> loadgen.Request:
            body = f"status=bench+post+{n}+%23energy&visibility=public".encode()
            headers = bearer | {
                "Idempotency-Key": f"bench-{os.getpid()}-{time.time_ns()}-{n}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            return ("POST", "/api/v1/statuses", headers, body)

        figure = await self.measure(
            "POST /api/v1/statuses", post, warm=3, max_requests=self.o.posts
        )
        figure.note = figure.note or f"{made['bench_remote_followers']} remote followers"

    async def measure_pages(self, bearer: dict[str, str], cookie: str) -> None:
        """The home timeline API, a profile, a community page and ``/home``."""
        made = self.o.made
        await self.measure(
            "GET /api/v1/timelines/home?limit=40",
            loadgen.fixed("GET", "/api/v1/timelines/home?limit=40", bearer),
        )
        await self.measure(f"GET /@{made['profile']}", loadgen.fixed("GET", f"/@{made['profile']}"))
        path = f"/c/{made['community']}"
        await self.measure(f"GET {path}", loadgen.fixed("GET", path))
        await self.measure("GET /home", loadgen.fixed("GET", "/home", {"Cookie": cookie}))

    async def measure_inbox_accepted(self, actors: Actors) -> None:
        key = actors.key
        signed: list[tuple[dict[str, str], bytes]] = []
        started = time.monotonic()
        url = self.o.made["url"] + "/inbox"
        for n in range(self.o.activities + 5):
            body = actors.create_note(n, f"bench activity {n}")
            signed.append(
                (
                    sign_post(
                        key, actors.uri(n % actors.count) + "#main-key", url, body, self.host
                    ),
                    body,
                )
            )
        self.say(f"{len(signed)} activities signed in {time.monotonic() - started:.1f} s")

        def make(n: int) -> loadgen.Request:
            headers, body = signed[n + 5 if n >= 0 else -1 - n]
            return ("POST", "/inbox", headers, body)

        await self.measure(
            "POST /inbox (accepted)",
            make,
            expect=(202,),
            warm=5,
            max_requests=self.o.activities,
            max_seconds=self.o.seconds * 3,
        )
