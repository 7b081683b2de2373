"""RSA signing of outgoing requests off the event loop: a process pool sized to the cores.

An RSA-2048 signature costs about a millisecond and a half of CPU, all of it holding the GIL, so a
delivery cycle of fifty signed POSTs would stop the event loop for 75 ms, and one Python process
never signs faster than one core. ``Signer.sign_many`` signs a cycle's requests in the pool, one
chunk per process, each keeping its parsed private keys; a handful (``INLINE_AT_MOST``) is signed
on the loop with the app's key cache, which is cheaper than the round trip to another process.
The pool is started on first use (an idle server has none) and stopped with the app.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import Executor
from dataclasses import dataclass

from federation.signatures import KeyCache, sign_request

log = logging.getLogger(__name__)

INLINE_AT_MOST = 4

# Parsed private keys of a pool process (each process has its own; never shared with the app).
_PROCESS_KEYS = KeyCache(256)


@dataclass(frozen=True, slots=True)
class SignJob:
    """One request to sign: the headers ``sign_request`` adds depend on all of these."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    key_id: str
    private_key_pem: str


def _sign(job: SignJob, keys: KeyCache) -> dict[str, str]:
    return sign_request(
        job.method, job.url, job.headers, job.body, job.key_id, job.private_key_pem, keys=keys
    )


def sign_chunk(jobs: list[SignJob]) -> list[dict[str, str]]:
    """Sign ``jobs`` in this process (the pool's task; keys parsed once per process)."""
    return [_sign(job, _PROCESS_KEYS) for job in jobs]


def pool_size() -> int:
    """One signing process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Signer:
    """Signs batches of requests in a process pool, few requests inline with ``keys``."""

    def __init__(self, keys: KeyCache, processes: int | None = None) -> None:
        self.keys = keys
        self.processes = processes or pool_size()
        self._pool: Executor | None = None

    def _executor(self) -> Executor:
        if self._pool is None:
            import multiprocessing  # here: an idle server has no pool and needs none of this
            from concurrent.futures import ProcessPoolExecutor

            # forkserver: the pool's processes start from a clean interpreter, not from a fork
            # of this one with its threads (database, resolver) in whatever state they were.
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self.processes, mp_context=context)
        return self._pool

    async def sign_many(self, jobs: list[SignJob]) -> list[dict[str, str]]:
        """The signed headers of each job, in order."""
        if len(jobs) <= INLINE_AT_MOST or self.processes < 2:
            return [_sign(job, self.keys) for job in jobs]
        size = -(-len(jobs) // self.processes)
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        from concurrent.futures.process import BrokenProcessPool

        loop = asyncio.get_running_loop()
        try:
            pool = self._executor()
            results = await asyncio.gather(
                *(loop.run_in_executor(pool, sign_chunk, chunk) for chunk in chunks)
            )
        except BrokenProcessPool:
            log.warning("the signing pool broke; signing this batch on the event loop")
            self.close()
            return [_sign(job, self.keys) for job in jobs]
        return [headers for chunk in results for headers in chunk]

    def close(self) -> None:
        """Stop the pool's processes (on app shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
