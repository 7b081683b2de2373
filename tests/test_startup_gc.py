"""``startup_gc.paused``: no automatic collection while a server starts; afterwards what it made
is frozen, and the collector is on again (or left off if it was off)."""

from __future__ import annotations

import gc

from server import startup_gc


def test_the_collector_is_off_during_start_up_and_on_after() -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        with startup_gc.paused():
            assert not gc.isenabled()
            survivor = [object() for _ in range(100)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(survivor)
    finally:
        gc.unfreeze()


def test_it_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        with startup_gc.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
