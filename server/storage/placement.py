"""Where a read unit of work runs on a SQLite file: on the event loop's own thread, or a reader thread.

A unit that is known to be short runs on the loop's thread, on a connection kept for it: no
thread hop, and no contention for the interpreter lock between the loop and a reader thread. That
contention is what a hop really costs under load: a reader thread releases the lock around every
SQLite step and must win it back from the loop, so sixteen timeline requests in flight cost twice
the CPU of the same requests one at a time. A unit that is long, or not measured yet, runs on a
reader thread, where the interpreter's switching lets the loop serve other requests meanwhile.

Each unit function is known by its code object (a lambda made anew per call is the same unit),
with a moving average of its cost: the CPU time of the thread it ran on, so neither waiting for
the interpreter lock on a reader nor the machine's other load on the loop counts (a page read
from a cold disk does not either; the file's pages are soon in the OS cache). A unit whose
average is within ``LOOP_BUDGET`` runs on the loop;
one that grows past it goes back to a reader, and one that shrinks comes back. Reads on the loop
back to back (a loop over many units that awaits nothing else) yield to the loop once they have
held it ``HOLD_LIMIT`` in all, so other requests are served in between.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

R = TypeVar("R")

# Seconds a read unit may usually take and still run on the loop's thread: below the
# interpreter's own switch interval (5 ms), so the loop is held no longer than a reader thread
# would hold the interpreter lock before handing it back.
LOOP_BUDGET = 0.003
_WEIGHT = 0.25  # of the newest measurement in the moving average
HOLD_LIMIT = 0.01  # seconds of reads on the loop before the loop runs its other callbacks


def unit_key(fn: Callable[..., Any]) -> object:
    """What identifies a unit function across calls: its code object where it has one."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    fn = getattr(fn, "__func__", fn)  # a bound method: its function
    return getattr(fn, "__code__", fn)


class ReadPlacement:
    """The measured cost of each read unit, and so where it runs next."""

    def __init__(self, budget: float = LOOP_BUDGET) -> None:
        self.budget = budget
        self._cost: dict[object, float] = {}
        self._held = 0.0  # seconds the loop ran reads since it last ran its other callbacks
        self._reset_due = False

    def on_loop(self, key: object) -> bool:
        """Whether the unit ``key`` runs on the loop's thread (measured, and short)."""
        cost = self._cost.get(key)
        return cost is not None and cost <= self.budget

    def record(self, key: object, seconds: float) -> None:
        """Fold one measurement of ``key`` into its average."""
        old = self._cost.get(key)
        self._cost[key] = seconds if old is None else old + (seconds - old) * _WEIGHT

    def ran_on_loop(self, key: object, seconds: float) -> None:
        """Record a unit that ran on the loop's thread, and that it held the loop so long (CPU)."""
        self.record(key, seconds)
        self._held += seconds
        if not self._reset_due:  # the loop's next round of callbacks starts the count afresh
            self._reset_due = True
            asyncio.get_running_loop().call_soon(self._reset_held)

    def held_too_long(self) -> bool:
        """Whether reads have held the loop ``HOLD_LIMIT`` since it last ran other callbacks."""
        return self._held >= HOLD_LIMIT

    def _reset_held(self) -> None:
        self._held = 0.0
        self._reset_due = False

    def cost(self, key: object) -> float | None:
        """The unit's average cost in seconds, or None before it has run."""
        return self._cost.get(key)

    def timed(self, key: object, fn: Callable[..., R]) -> Callable[..., R]:
        """``fn`` measuring the CPU time of the thread it runs on (a reader thread)."""

        def measured(conn: sa.Connection, *args: Any) -> R:
            started = time.thread_time()
            try:
                return fn(conn, *args)
            finally:
                self.record(key, time.thread_time() - started)

        return measured


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" / "busy": the loop's connection waits for
    nothing (busy timeout 0), so such a unit runs again on a reader thread, which waits."""
    if isinstance(exc, sa.exc.OperationalError):
        exc = exc.orig if exc.orig is not None else exc
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc)
    return "locked" in text or "busy" in text
