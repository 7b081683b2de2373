"""The HTML pages alone, against the bare aiohttp handler in the same run.

    python bench/pages.py --data DIR [--database-url URL] [--seconds S] [--requests N]
                          [--repeat R] [--json FILE]

On a directory written by ``bench/seed.py`` it measures, at concurrency 16, the most visited
pages: a profile (``/@user``), a community (``/c/handle``), a post page, ``/communities`` —
each anonymous and signed in as ``bench`` — and ``/home``. Figures as in ``bench/run.py``:
req/s, p50/p99, statements and transactions per request, CPU ms per request and the ratio to
the bare handler (mean of its runs before and after). Pages only read, so the data stays as it
was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.run import median_of, print_table  # noqa: E402
from bench.suite import Options, Report, Run  # noqa: E402


async def _a_post_path(base: str, profile: str) -> str:
    """The path of the first post linked from the profile page."""
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{base}/@{profile}") as r:
            html = await r.text()
    found = re.search(rf'href="(?:[^"]*)?(/@{profile}/\d+)"', html)
    if found is None:
        raise SystemExit(f"bench: no post linked from /@{profile}")
    return found.group(1)


async def between_bare_runs(opts: Options, body: Callable[[Run], Awaitable[None]]) -> Report:
    """One run: the bare handler, Koers measured by ``body(run)``, the bare handler again; each
    figure's ratio is to the mean of the two bare runs."""
    run = Run(opts)
    try:
        await run.measure_bare()
        await run.start_web()
        await body(run)
        for p in run.web:
            p.stop()
        run.web = []
        await run.measure_bare()
        for figure in run.report.figures:
            figure.ratio = figure.rate / run.bare_rate
        run.report.facts["bare_req_per_s"] = [round(r) for r in run.bare]
    finally:
        for p in run.web:
            p.stop()
    return run.report


async def _pages(run: Run) -> None:
    made = run.o.made
    _token, cookie = await run.credentials()
    signed_in = {"Cookie": cookie}
    post = await _a_post_path(run.web[0].base, made["profile"])
    pages = [
        f"/@{made['profile']}",
        f"/c/{made['community']}",
        post,
        "/communities",
    ]
    for path in pages:
        await run.measure(f"GET {path}", loadgen.fixed("GET", path))
    for path in pages:
        await run.measure(f"GET {path} (signed in)", loadgen.fixed("GET", path, signed_in))
    await run.measure("GET /home (signed in)", loadgen.fixed("GET", "/home", signed_in))


async def measure_pages(opts: Options) -> Report:
    """One run: the bare handler, each page, the bare handler again."""
    return await between_bare_runs(opts, _pages)


def cli(
    measure: Callable[[Options], Awaitable[Report]], description: str, argv: list[str] | None
) -> int:
    """The command line of the read-only benchmarks (this one and ``bench/timelines.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--concurrency", type=int, default=16, help="requests in flight at once (default 16)"
    )
    args = parser.parse_args(argv)
    made = json.loads((args.data / "bench.json").read_text())
    opts = Options(
        data=args.data,
        made=made,
        database_url=args.database_url or made.get("database_url", ""),
        processes=1,
        seconds=args.seconds,
        requests=args.requests,
        posts=0,
        activities=0,
        federation=False,
        concurrency=args.concurrency,
    )
    reports = [asyncio.run(measure(opts)) for _ in range(args.repeat)]
    report = median_of(reports)
    print_table([report], made)
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli(measure_pages, __doc__.split("\n\n")[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
