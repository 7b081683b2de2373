"""Koers benchmarks: one command, loopback only, bounded in count and time.

    python bench/run.py --data DIR [--database-url URL] [--processes 1 2] [--quick]
                        [--seconds S] [--requests N] [--json FILE]
                        [--federation-only] [--activities N]
    python bench/run.py [--requests N] [--seconds S]        (no --data: the demo benchmark)

With ``--data`` (a directory written by ``bench/seed.py``; its backend is the one it was seeded
on unless ``--database-url`` says otherwise) it measures, in one run each and against a bare
aiohttp handler started in the same run: the home timeline API, the ``/@user``, ``/c/community``
and ``/home`` pages, ``POST /api/v1/statuses`` (deliveries to bench's 100 remote followers
queued), the inbox (signed activities from loopback remote actors, verified, stored, 202), the
inbox worker (activities applied per second), delivery (signed POSTs per second to a loopback
sink, against the machine's RSA-2048 signing limit measured in the same run), idle RSS and the
time from start to the first 200 (``--federation-only``: the inbox and delivery alone, with the
posts that queue the deliveries; ``--activities N`` signed activities). Each at concurrency 16: req/s, p50/p99 latency, statements and
transactions per request (counted in the server process), CPU ms per request (server process CPU
time / requests) and the ratio to the bare handler. The run adds posts and activities to the
data; seed again for a pristine set.

The machine may be shared: quote ratios, and medians of several runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.phases import execute  # noqa: E402
from bench.suite import Figure, Options, Report  # noqa: E402

MEDIAN_FIELDS = (
    "rate",
    "p50",
    "p99",
    "statements",
    "transactions",
    "cpu_ms",
    "db_cpu_ms",
    "ratio",
)


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def print_table(reports: list[Report], made: dict) -> None:
    """One table for every run."""
    print(
        f"\nKoers on {made['statuses']:,} statuses, {made['accounts']['local']:,} local + "
        f"{made['accounts']['remote']:,} remote accounts; concurrency 16, loopback; "
        f"{os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f}\n"
    )
    head = (
        f"{'backend':10} {'proc':>4}  {'path':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'stmts':>6} {'txns':>5} {'CPU ms':>7} {'DB ms':>6} {'ratio':>8} {'CPU rt':>8}  {'n':>6}  note"
    )
    print(head)
    print("-" * len(head))
    for r in reports:
        given = r.facts.get("bare_cpu_ms", float("nan"))
        bare_cpu = _median(given if isinstance(given, list) else [given])
        for f in r.figures:
            ratio = _fraction(f.ratio)
            if f.name.startswith("delivery"):
                ratio = f"{f.ratio:.0%}" if f.ratio == f.ratio else "–"
            cpu = f.cpu_ms + (0.0 if math.isnan(f.db_cpu_ms) else f.db_cpu_ms)
            cpu_ratio = "–" if f.name.startswith("delivery") else _fraction(bare_cpu / cpu)
            errors = f", {f.errors} errors" if f.errors else ""
            print(
                f"{r.backend:10} {r.processes:>4}  {f.name:40} {_fmt(f.rate):>9} {_fmt(f.p50):>8} "
                f"{_fmt(f.p99):>8} {_fmt(f.statements):>6} {_fmt(f.transactions):>5} "
                f"{_fmt(f.cpu_ms, 2):>7} {_fmt(f.db_cpu_ms, 2):>6} {ratio:>8} {cpu_ratio:>8}  {f.count:>6}  {f.note}{errors}"
            )
        facts = ", ".join(f"{k} {v}" for k, v in r.facts.items())
        print(f"{r.backend:10} {r.processes:>4}  {facts}")
    print(
        "\nratio: req/s over the bare handler's (mean of its runs before and after); delivery: "
        "share of the machine's RSA-2048 signing limit (all cores signing at once, or one core when "
        "that is higher on a busy machine). CPU ms: server processes' CPU time "
        "per request; DB ms: PostgreSQL backends' CPU time per request (SQLite runs inside the "
        "server); CPU rt: the bare handler's CPU time per request over the sum of both (less sensitive to "
        "other load on the machine). stmts/txns: per request, counted in the server processes."
    )


def print_federation(reports: list[Report]) -> None:
    """The federation figures of each run in one line: inbox accepted, processed, delivery."""
    for r in reports:
        by = {f.name.split(" (")[0]: f for f in r.figures}
        accepted, processed = by.get("POST /inbox"), by.get("inbox processed")
        delivery = by.get("delivery")
        if accepted is None and processed is None and delivery is None:
            continue
        parts = []
        if accepted is not None:
            parts.append(
                f"inbox accepted {_fmt(accepted.rate)} req/s = {_fraction(accepted.ratio)} of the "
                f"bare handler ({_fmt(accepted.cpu_ms, 2)} ms CPU each)"
            )
        if processed is not None:
            parts.append(
                f"processed {_fmt(processed.rate)} activities/s ({_fmt(processed.cpu_ms, 2)} ms "
                f"CPU, {_fmt(processed.statements)} statements each)"
            )
        if delivery is not None:
            parts.append(
                f"delivery {_fmt(delivery.rate)} signed POSTs/s = {_fmt(100 * delivery.ratio, 0)}% "
                "of the RSA-2048 signing limit"
            )
        print(f"{r.backend} ×{r.processes}: " + "; ".join(parts))


def _fraction(value: float) -> str:
    """``1/N`` for ratios below one."""
    if value != value or value <= 0:
        return "–"
    return f"1/{1 / value:,.0f}" if value < 1 else f"{value:.2f}"


def _median(values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, int | float) and not math.isnan(v)]
    return statistics.median(numbers) if numbers else float("nan")


def median_of(reports: list[Report]) -> Report:
    """One report whose every figure is the median over the runs (counts are summed)."""
    if len(reports) == 1:
        return reports[0]
    out = Report(reports[0].backend, reports[0].processes)
    for first in reports[0].figures:
        same = [f for r in reports for f in r.figures if f.name == first.name]
        values = {k: _median([getattr(f, k) for f in same]) for k in MEDIAN_FIELDS}
        out.figures.append(
            Figure(
                first.name,
                **values,
                count=sum(f.count for f in same),
                errors=sum(f.errors for f in same),
                note=f"median of {len(same)}; {first.note}".rstrip("; "),
            )
        )
    for key in reports[0].facts:
        seen = [r.facts.get(key) for r in reports]
        flat = [x for v in seen for x in (v if isinstance(v, list) else [v])]
        numeric = all(isinstance(x, int | float) for x in flat)
        out.facts[key] = round(_median(flat), 4) if numeric else seen
    out.facts["runs"] = len(reports)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="a directory written by bench/seed.py")
    parser.add_argument("--database-url", help="PostgreSQL holding the seeded data")
    parser.add_argument("--processes", type=int, nargs="+", default=[1], choices=[1, 2])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--seconds", type=float, help="at most this long per path (default 10)")
    parser.add_argument("--requests", type=int, help="at most this many per path (default 5000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; medians shown")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--federation-only",
        action="store_true",
        help="only the inbox (accepted, processed) and delivery, with the posts that queue it",
    )
    parser.add_argument(
        "--posts-only",
        action="store_true",
        help="no pages, no delivery or inbox processing: POST /api/v1/statuses (and the inbox)",
    )
    parser.add_argument(
        "--activities", type=int, help="activities POSTed to the inbox (default 1500)"
    )
    args, rest = parser.parse_known_args(argv)
    if args.data is None:
        from bench.demo_run import main as demo

        return demo(rest)
    if rest:
        parser.error(f"unknown arguments {rest}")
    made = json.loads((args.data / "bench.json").read_text())
    quick = args.quick
    reports, every = [], []
    for processes in args.processes:
        opts = Options(
            data=args.data.resolve(),
            made=made,
            database_url=args.database_url or made.get("database_url", ""),
            processes=processes,
            seconds=args.seconds or (3.0 if quick else 10.0),
            requests=args.requests or (500 if quick else 5000),
            posts=60 if quick else 300,
            activities=args.activities or (150 if quick else 1500),
            federation=processes == 1 and not args.posts_only,
            pages=not (args.federation_only or args.posts_only),
        )
        runs = [asyncio.run(execute(opts)) for _ in range(max(1, args.repeat))]
        every.extend(runs)
        reports.append(median_of(runs))
    print_table(reports, made)
    print_federation(reports)
    if args.json:
        dump = {"medians": [r.as_dict() for r in reports], "runs": [r.as_dict() for r in every]}
        args.json.write_text(json.dumps(dump, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
