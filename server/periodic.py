"""Background tasks that run one job every so many seconds (the workers' sweepers and publishers).

A round that fails because the database was away is logged and retried next round; anything else
is a bug and ends the task (it shows in the log when the task is stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)


def start(name: str, job: Callable[[], Awaitable[object]], every: float) -> asyncio.Task[None]:
    """Run ``job`` now and then every ``every`` seconds, as the task ``name`` (stop it with ``stop``)."""

    async def loop() -> None:
        while True:
            try:
                await job()
            except (OSError, sa.exc.SQLAlchemyError):  # the database was away: retried next round
                if being_cancelled():  # the error came of our own cancellation: stop
                    raise
                log.exception("%s failed", name)
            await asyncio.sleep(every)

    return asyncio.create_task(loop(), name=name)


def being_cancelled() -> bool:
    """Is the current task being cancelled? A cancellation that a library turned into another
    error (a rolled-back connection's error, say) must still end the loop, not retry forever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel a task of ``start`` and wait for it to end."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
