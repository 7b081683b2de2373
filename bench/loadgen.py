"""A small async HTTP load generator (aiohttp), loopback only, bounded in count and in time.

``concurrency`` workers share one connection pool and send requests back to back; requests go
round-robin over the given base URLs (several server processes on one machine).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

# A request: (method, path, headers, body); the factory gets the request's sequence number.
Request = tuple[str, str, dict[str, str], bytes | None]


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def fixed(
    method: str, path: str, headers: dict[str, str] | None = None
) -> Callable[[int], Request]:
    """A factory that sends the same request every time."""
    request: Request = (method, path, dict(headers or {}), None)
    return lambda _n: request


async def run(
    bases: list[str],
    make: Callable[[int], Request],
    *,
    concurrency: int = 16,
    max_requests: int = 5000,
    max_seconds: float = 10.0,
    expect: tuple[int, ...] = (200,),
) -> LoadResult:
    """Send at most ``max_requests`` requests for at most ``max_seconds`` seconds."""
    result = LoadResult()
    counter = itertools.count()
    rotation = itertools.cycle(bases)
    connector = aiohttp.TCPConnector(limit=concurrency * 2, force_close=False)
    deadline = time.monotonic() + max_seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= max_requests:
                return
            method, path, headers, body = make(n)
            started = time.perf_counter()
            async with session.request(
                method, next(rotation) + path, headers=headers, data=body, allow_redirects=False
            ) as resp:
                await resp.read()
            elapsed = time.perf_counter() - started
            result.statuses[resp.status] = result.statuses.get(resp.status, 0) + 1
            if resp.status in expect:
                result.ok += 1
                result.latencies.append(elapsed)
            else:
                result.errors += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result
