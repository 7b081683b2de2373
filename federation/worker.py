"""The loop shared by the background workers: run a cycle, sleep until woken when idle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_forever(
    cycle: Callable[[], Awaitable[int]], event: asyncio.Event, name: str, idle_seconds: float = 2.0
) -> None:
    """Call ``cycle`` until cancelled; when it did nothing, wait for ``event`` or ``idle_seconds``."""
    while True:
        try:
            count = await cycle()
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken cycle must not stop the worker; its rows stay for next time
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the error came of a cancellation: stop
                raise
            log.exception("%s cycle failed", name)
            count = 0
        if count == 0:
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), idle_seconds)
            except TimeoutError:
                pass
