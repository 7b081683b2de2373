"""Throttling of password (and other secret) attempts that cannot lock the owner out.

Failures are counted two ways, each over ``WINDOW``:

- per **(login, address)**: after ``PAIR_FREE`` failures that pair must wait before its next
  attempt, a wait that doubles with every further failure (``PAIR_FIRST_WAIT`` up to
  ``PAIR_MAX_WAIT``); the attempt is refused before the password is even checked, so guessing one
  account from one address stays slow. Any other address is not affected: the owner's right
  password from home works while an attacker hammers the account from elsewhere.
- per **address**: after ``ADDRESS_FREE`` failures (for any logins) every further *wrong* answer
  from that address comes late, by a delay that doubles every ``ADDRESS_STEP`` failures up to
  ``ADDRESS_MAX_DELAY``. A right password from that address is answered at once, so the people
  behind a shared address (an office NAT) are never slowed by someone else's failures.

The login page, the OAuth password grant and any later secret form (second factor, password reset)
call ``before_attempt``, then ``failed`` or ``succeeded``, with their own ``login`` key (for a second
factor, e.g. ``"2fa:" + username``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.errors import RateLimited
from server.i18n.messages import Message
from server.storage import schema as t
from server.storage.db import Database

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
PAIR_FREE = 8
PAIR_FIRST_WAIT = 60.0  # seconds after the PAIR_FREE-th failure
PAIR_MAX_WAIT = 3600.0
ADDRESS_FREE = 20
ADDRESS_STEP = 10
ADDRESS_FIRST_DELAY = 0.25  # seconds added to a wrong answer once over ADDRESS_FREE
ADDRESS_MAX_DELAY = 5.0


def pair_wait(failures: int) -> float:
    """Seconds a (login, address) pair waits after its last failure; 0 while under the free count."""
    if failures < PAIR_FREE:
        return 0.0
    return min(PAIR_FIRST_WAIT * 2 ** (failures - PAIR_FREE), PAIR_MAX_WAIT)


def address_delay(failures: int) -> float:
    """Seconds a wrong answer to an address with ``failures`` recent failures is held back."""
    if failures < ADDRESS_FREE:
        return 0.0
    steps = (failures - ADDRESS_FREE) // ADDRESS_STEP
    return min(ADDRESS_FIRST_DELAY * 2**steps, ADDRESS_MAX_DELAY)


def _key(login: str) -> str:
    return login.strip().lower()[:320]


async def before_attempt(db: Database, login: str, address: str) -> None:
    """Refuse (``RateLimited``) while this (login, address) pair has to wait; else return."""
    since = clock.now() - WINDOW
    f = t.login_failures
    async with db.read() as conn:
        count, last = (
            await conn.execute(
                sa.select(sa.func.count(), sa.func.max(f.c.at)).where(
                    f.c.at > since, f.c.login == _key(login), f.c.address == address[:64]
                )
            )
        ).one()
    wait = pair_wait(count)
    if not wait or last is None:
        return
    left = (clock.aware(last) - clock.now()).total_seconds() + wait
    if left > 0:
        raise RateLimited(_human(left), retry_after=max(1, int(left + 0.999)))


async def failed(db: Database, login: str, address: str) -> None:
    """Record a failure; hold the answer back when the address has many recent failures."""
    now = clock.now()
    f = t.login_failures
    async with db.write() as conn:
        await conn.execute(f.insert().values(login=_key(login), address=address[:64], at=now))
        by_address = (
            await conn.execute(
                sa.select(sa.func.count()).where(f.c.at > now - WINDOW, f.c.address == address[:64])
            )
        ).scalar_one()
    delay = address_delay(by_address)
    if delay:
        log.info("failed login from %s (%d recent failures); answering late", address, by_address)
        await asyncio.sleep(delay)


async def succeeded(db: Database, login: str, address: str) -> None:
    """Forget the failures of this (login, address) pair; other addresses keep theirs."""
    f = t.login_failures
    async with db.write() as conn:
        await conn.execute(f.delete().where(f.c.login == _key(login), f.c.address == address[:64]))


def _human(seconds: float) -> Message:
    """The refusal of a login attempt, with how long to wait in seconds or minutes."""
    if seconds < 90:
        return Message(
            "too many failed attempts from your address; try again in %(num)s seconds",
            num=int(seconds + 0.999),
        )
    return Message(
        "too many failed attempts from your address; try again in %(num)s minutes",
        num=int(seconds / 60 + 0.999),
    )
