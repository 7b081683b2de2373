"""The status-rendering API reads alone, against the bare aiohttp handler in the same run.

    python bench/timelines.py --data DIR [--database-url URL] [--seconds S] [--requests N]
                              [--repeat R] [--json FILE]

On a directory written by ``bench/seed.py`` it measures, at concurrency 16 and signed in as
``bench`` (a bearer token), the answers that are mostly status JSON: the home timeline
(``limit=40``), the public timeline (``limit=40``) and a profile's statuses (``limit=40``).
Figures as in ``bench/run.py``: req/s, p50/p99, statements and transactions per request, CPU ms
per request and the ratio to the bare handler (mean of its runs before and after). These only
read, so the data stays as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.pages import between_bare_runs, cli  # noqa: E402
from bench.suite import Options, Report, Run  # noqa: E402


async def _account_id(base: str, token: str, username: str) -> str:
    """The API id of the local account ``username``."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as s:
        async with s.get(
            f"{base}/api/v1/accounts/lookup", params={"acct": username}, headers=headers
        ) as r:
            body = await r.json()
    return str(body["id"])


async def _reads(run: Run) -> None:
    token, _cookie = await run.credentials()
    bearer = {"Authorization": f"Bearer {token}"}
    profile = await _account_id(run.web[0].base, token, run.o.made["profile"])
    paths = [
        "/api/v1/timelines/home?limit=40",
        "/api/v1/timelines/public?limit=40",
        f"/api/v1/accounts/{profile}/statuses?limit=40",
    ]
    for path in paths:
        await run.measure(f"GET {path}", loadgen.fixed("GET", path, bearer))


async def measure_timelines(opts: Options) -> Report:
    """One run: the bare handler, each API read, the bare handler again."""
    return await between_bare_runs(opts, _reads)


def main(argv: list[str] | None = None) -> int:
    return cli(measure_timelines, __doc__.split("\n\n")[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
