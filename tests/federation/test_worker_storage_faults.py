"""A background worker on a full disk logs one line a minute, not a traceback every cycle."""

from __future__ import annotations

import asyncio
import errno
import logging

from federation.worker import run_forever


async def test_a_full_disk_is_reported_once_not_per_cycle(caplog) -> None:
    calls = 0

    async def cycle() -> int:
        nonlocal calls
        calls += 1
        raise OSError(errno.ENOSPC, "No space left on device")

    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(run_forever(cycle, asyncio.Event(), "delivery", idle_seconds=0.01))
    await asyncio.sleep(0.3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert calls >= 5
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "storage is full" in errors[0].getMessage()
    assert "the delivery worker" in errors[0].getMessage() and errors[0].exc_info is None
