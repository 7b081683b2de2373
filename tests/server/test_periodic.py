"""Periodic background tasks: a round that fails because the database was away is retried next round."""

from __future__ import annotations

import asyncio

from server import periodic


async def test_a_failed_round_is_retried_and_stop_ends_the_task() -> None:
    rounds: list[int] = []

    async def job() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OSError("database away")

    task = periodic.start("test-job", job, 0.01)
    for _ in range(100):
        if len(rounds) >= 3:
            break
        await asyncio.sleep(0.01)
    await periodic.stop(task)
    assert len(rounds) >= 3 and task.done()
