"""Login throttling that cannot lock the owner out (issue 11, finding 5)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from server import clock
from server.errors import Forbidden, RateLimited
from server.services import accounts, login_throttle
from tests.conftest import PASSWORD


async def _fail(db, login: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(Forbidden):
            await accounts.authenticate(db, login, "wrong password", address)


def test_waits_grow_and_are_capped() -> None:
    free = login_throttle.PAIR_FREE
    assert login_throttle.pair_wait(free - 1) == 0
    waits = [login_throttle.pair_wait(n) for n in range(free, free + 12)]
    assert waits == sorted(waits) and waits[1] == 2 * waits[0]
    assert waits[-1] == login_throttle.PAIR_MAX_WAIT
    assert login_throttle.address_delay(login_throttle.ADDRESS_FREE - 1) == 0
    assert (
        0
        < login_throttle.address_delay(login_throttle.ADDRESS_FREE)
        < (
            login_throttle.address_delay(
                login_throttle.ADDRESS_FREE + 10 * login_throttle.ADDRESS_STEP
            )
        )
        <= login_throttle.ADDRESS_MAX_DELAY
    )


async def test_an_attacker_elsewhere_never_locks_the_owner_out(unit_db, member) -> None:
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        await _fail(unit_db, "ana", address, accounts.LOGIN_MAX_FAILURES)
        with pytest.raises(RateLimited) as refused:
            await accounts.authenticate(unit_db, "ana", PASSWORD, address)
        assert refused.value.retry_after >= 60
    assert await accounts.authenticate(unit_db, "ana", PASSWORD, "198.51.100.7") == member
    # and by e-mail address too, the same login under another name
    assert await accounts.authenticate(unit_db, "ana@example.test", PASSWORD, "198.51.100.7")


async def test_the_pair_wait_passes_and_then_doubles(unit_db, member, monkeypatch) -> None:
    await _fail(unit_db, "ana", "203.0.113.9", accounts.LOGIN_MAX_FAILURES)
    later = clock.now() + timedelta(seconds=login_throttle.PAIR_FIRST_WAIT + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    await _fail(unit_db, "ana", "203.0.113.9")  # allowed again after the first wait
    with pytest.raises(RateLimited) as refused:
        await accounts.authenticate(unit_db, "ana", PASSWORD, "203.0.113.9")
    assert refused.value.retry_after > login_throttle.PAIR_FIRST_WAIT  # now twice as long


async def test_a_shared_address_slows_only_the_failing_attempts(
    unit_db, member, make_member, monkeypatch
) -> None:
    monkeypatch.setattr(login_throttle, "ADDRESS_FREE", 3)
    monkeypatch.setattr(login_throttle, "ADDRESS_FIRST_DELAY", 0.3)
    await make_member("bo")
    office = "192.0.2.50"
    for name in ("x1", "x2", "x3"):  # someone behind the office NAT guesses other logins
        await _fail(unit_db, name, office)
    started = time.monotonic()
    await _fail(unit_db, "x4", office)
    assert time.monotonic() - started >= 0.3  # a wrong answer comes late
    started = time.monotonic()
    assert (await accounts.authenticate(unit_db, "bo", PASSWORD, office)).username == "bo"
    assert await accounts.authenticate(unit_db, "ana", PASSWORD, office) == member
    assert time.monotonic() - started < 0.3  # the right password does not wait


async def test_success_clears_only_its_own_pair(unit_db, member) -> None:
    await _fail(unit_db, "ana", "203.0.113.20", accounts.LOGIN_MAX_FAILURES)
    await _fail(unit_db, "ana", "203.0.113.21", accounts.LOGIN_MAX_FAILURES - 1)
    await accounts.authenticate(unit_db, "ana", PASSWORD, "203.0.113.21")
    with pytest.raises(RateLimited):
        await accounts.authenticate(unit_db, "ana", PASSWORD, "203.0.113.20")
