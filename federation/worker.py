"""The loop shared by the background workers: run a cycle, sleep until woken when idle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from server.storage import faults

log = logging.getLogger(__name__)


async def run_forever(
    cycle: Callable[[], Awaitable[int]], event: asyncio.Event, name: str, idle_seconds: float = 2.0
) -> None:
    """Call ``cycle`` until cancelled; when it did nothing, wait for ``event`` or ``idle_seconds``."""
    reporter = faults.Reporter()
    while True:
        try:
            count = await cycle()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken cycle must not stop the worker; its rows stay
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the error came of a cancellation: stop
                raise
            fault = faults.classify(exc)
            if fault is not None:  # a full or read-only disk: one line a minute, not a traceback
                reporter.report(fault, exc, f"the {name} worker")
            else:
                log.exception("%s cycle failed", name)
            count = 0
        if count == 0:
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), idle_seconds)
            except TimeoutError:
                pass
