"""Two-factor sign-in: TOTP codes (RFC 6238, ``pyotp``) and single-use recovery codes.

A member turns it on by scanning a secret and entering a first code; they then get ten recovery
codes (shown once, kept as SHA-256 hashes). The secret is stored encrypted with a key derived
from the instance secret. A code is accepted once (the last time step used is kept).

The sign-in step is throttled: wrong codes are counted per (account, address), per address and
per account. The per-account limit stops only TOTP guesses: a recovery code (50 random bits) is
still taken, so whoever guesses from many addresses cannot lock the owner out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import sqlalchemy as sa

from server import clock
from server.config import Settings
from server.errors import Conflict, Forbidden, RateLimited, ValidationError
from server.i18n.messages import Message
from server.storage import schema as t
from server.storage.db import Database

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

log = logging.getLogger(__name__)


def _pyotp() -> ModuleType:
    """``pyotp``, imported when a code is first made or checked: most start-ups (and most
    sign-ins) never need it (``tests/test_startup_imports.py``)."""
    import pyotp

    return pyotp


WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_AND_ADDRESS = 5
MAX_PER_ADDRESS = 20
MAX_PER_ACCOUNT = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True, slots=True)
class Status:
    """A member's two-factor state: on or off, and how many recovery codes are left."""

    enabled: bool
    recovery_left: int


def _fernet(settings: Settings) -> Fernet:
    # ``cryptography`` is imported once a secret is stored or read, not at start-up
    # (tests/test_startup_imports.py)
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"koers-totp", info=b"totp").derive(
        settings.secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _decrypt(settings: Settings, stored: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(settings).decrypt(stored.encode()).decode()
    except InvalidToken:
        raise Forbidden(
            "two-factor sign-in cannot be checked (the instance secret changed); "
            "ask an administrator"
        ) from None


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalise_recovery(code).encode()).hexdigest()


def normalise_recovery(code: str) -> str:
    """A recovery code as stored: lower case, no spaces or dashes."""
    return "".join(c for c in code.lower() if c.isalnum())


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def provisioning_uri(settings: Settings, secret: str, account_name: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads."""
    return (
        _pyotp()
        .TOTP(secret)
        .provisioning_uri(
            name=f"{account_name}@{settings.domain}", issuer_name=settings.instance_name
        )
    )


def provisioning_qr(uri: str) -> str:
    """The ``otpauth://`` URI as a QR code: an SVG ``data:`` URI for an ``<img>`` (drawn here,
    so the set-up page needs no script), dark on white with its quiet zone for any theme."""
    import segno  # only the set-up page draws one: not loaded at start-up

    code = segno.make(uri, "m")  # error correction level M (15 %)
    return str(code.svg_data_uri(scale=5, border=4, dark="#000", light="#fff"))


async def status(db: Database, user_id: int) -> Status:
    """Whether two-factor sign-in is on for a member."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.two_factor.c.confirmed_at).where(t.two_factor.c.user_id == user_id)
            )
        ).first()
        left = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.two_factor_recovery_codes)
                .where(
                    t.two_factor_recovery_codes.c.user_id == user_id,
                    t.two_factor_recovery_codes.c.used_at.is_(None),
                )
            )
        ).scalar_one()
    return Status(row is not None and row.confirmed_at is not None, int(left))


async def start_setup(db: Database, settings: Settings, user_id: int) -> str:
    """A new secret for a member turning two-factor on (replaces an unconfirmed one)."""
    secret = _pyotp().random_base32()
    async with db.write() as conn:
        row = (
            await conn.execute(sa.select(t.two_factor).where(t.two_factor.c.user_id == user_id))
        ).first()
        if row is not None and row.confirmed_at is not None:
            raise Conflict("two-factor sign-in is on already; turn it off first")
        await conn.execute(t.two_factor.delete().where(t.two_factor.c.user_id == user_id))
        await conn.execute(
            t.two_factor.insert().values(
                user_id=user_id,
                secret=_fernet(settings).encrypt(secret.encode()).decode(),
                created_at=clock.now(),
            )
        )
    return secret


async def pending_secret(db: Database, settings: Settings, user_id: int) -> str | None:
    """The secret being set up (not confirmed yet), if any."""
    async with db.read() as conn:
        row = (
            await conn.execute(sa.select(t.two_factor).where(t.two_factor.c.user_id == user_id))
        ).first()
    if row is None or row.confirmed_at is not None:
        return None
    return _decrypt(settings, row.secret)


def _matching_step(secret: str, code: str, last_step: int) -> int | None:
    """The time step (now ±1) whose code is ``code`` and that was not used yet."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = _pyotp().TOTP(secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


async def _use_totp(db: Database, settings: Settings, user_id: int, code: str) -> bool:
    async with db.write() as conn:
        row = (
            await conn.execute(sa.select(t.two_factor).where(t.two_factor.c.user_id == user_id))
        ).first()
        if row is None:
            return False
        step = _matching_step(_decrypt(settings, row.secret), code, int(row.last_step))
        if step is None:
            return False
        done = await conn.execute(
            t.two_factor.update()
            .where(t.two_factor.c.id == row.id, t.two_factor.c.last_step < step)
            .values(last_step=step, confirmed_at=row.confirmed_at or clock.now())
        )
        return bool(done.rowcount)


async def _use_recovery(db: Database, user_id: int, code: str) -> bool:
    async with db.write() as conn:
        done = await conn.execute(
            t.two_factor_recovery_codes.update()
            .where(
                t.two_factor_recovery_codes.c.user_id == user_id,
                t.two_factor_recovery_codes.c.code_hash == _code_hash(code),
                t.two_factor_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=clock.now())
        )
    return bool(done.rowcount)


async def _replace_recovery_codes(db: Database, user_id: int) -> list[str]:
    codes = _new_recovery_codes()
    async with db.write() as conn:
        await conn.execute(
            t.two_factor_recovery_codes.delete().where(
                t.two_factor_recovery_codes.c.user_id == user_id
            )
        )
        await conn.execute(
            t.two_factor_recovery_codes.insert(),
            [{"user_id": user_id, "code_hash": _code_hash(c)} for c in codes],
        )
    return codes


async def confirm_setup(db: Database, settings: Settings, user_id: int, code: str) -> list[str]:
    """Turn two-factor on with a first code from the app; returns the new recovery codes."""
    if await pending_secret(db, settings, user_id) is None:
        raise Conflict("start setting up two-factor sign-in first")
    if not await _use_totp(db, settings, user_id, code):
        raise ValidationError(
            "that code is not right; check the app's clock and try again", field="code"
        )
    log.info("user %s turned two-factor sign-in on", user_id)
    return await _replace_recovery_codes(db, user_id)


async def _check_owner_code(db: Database, settings: Settings, user_id: int, code: str) -> None:
    if not (await status(db, user_id)).enabled:
        raise Conflict("two-factor sign-in is off")
    if not (await _use_totp(db, settings, user_id, code) or await _use_recovery(db, user_id, code)):
        raise ValidationError("that code is not right", field="code")


async def disable(db: Database, settings: Settings, user_id: int, code: str) -> None:
    """Turn two-factor off; needs a current code or a recovery code."""
    await _check_owner_code(db, settings, user_id, code)
    async with db.write() as conn:
        await conn.execute(t.two_factor.delete().where(t.two_factor.c.user_id == user_id))
        await conn.execute(
            t.two_factor_recovery_codes.delete().where(
                t.two_factor_recovery_codes.c.user_id == user_id
            )
        )
    log.info("user %s turned two-factor sign-in off", user_id)


async def regenerate_recovery_codes(
    db: Database, settings: Settings, user_id: int, code: str
) -> list[str]:
    """Fresh recovery codes (the old ones stop working); needs a current code."""
    await _check_owner_code(db, settings, user_id, code)
    return await _replace_recovery_codes(db, user_id)


async def verify_sign_in(
    db: Database, settings: Settings, user_id: int, code: str, address: str
) -> None:
    """Check the second step of a password sign-in; throttled. Raises on a wrong code."""
    address = address[:64]
    since = clock.now() - WINDOW
    f = t.two_factor_failures
    async with db.read() as conn:
        counts = (
            await conn.execute(
                sa.select(
                    sa.func.count().filter(sa.and_(f.c.user_id == user_id, f.c.address == address)),
                    sa.func.count().filter(f.c.address == address),
                    sa.func.count().filter(f.c.user_id == user_id),
                ).where(f.c.at > since, sa.or_(f.c.user_id == user_id, f.c.address == address))
            )
        ).one()
    pair, from_address, for_account = (int(c or 0) for c in counts)
    if pair >= MAX_PER_ACCOUNT_AND_ADDRESS or from_address >= MAX_PER_ADDRESS:
        raise RateLimited("too many wrong codes; try again in 15 minutes", retry_after=900)
    is_totp = "".join(code.split()).isdigit()
    if is_totp and for_account >= MAX_PER_ACCOUNT:
        raise RateLimited(
            "too many wrong codes for this account; use one of your recovery codes, "
            "or try again in 15 minutes",
            retry_after=900,
        )
    ok = await (
        _use_totp(db, settings, user_id, code) if is_totp else _use_recovery(db, user_id, code)
    )
    async with db.write() as conn:
        if ok:
            await conn.execute(f.delete().where(f.c.user_id == user_id, f.c.address == address))
            await conn.execute(f.delete().where(f.c.at < since))
        else:
            await conn.execute(f.insert().values(user_id=user_id, address=address, at=clock.now()))
    if not ok:
        log.info("wrong two-factor code for user %s from %s", user_id, address)
        raise Forbidden("that code is not right")


async def password_step(db: Database, settings: Settings, user_id: int) -> str:
    """What a correct password leads to: ``done``, ``code`` (ask for it) or ``enrol`` (set up first).

    With ``KOERS_OIDC_ONLY`` only administrators sign in with a password (the break-glass way);
    with ``KOERS_REQUIRE_2FA_ADMINS`` an administrator without two-factor sets it up first.
    """
    async with db.read() as conn:
        is_admin = bool(
            (
                await conn.execute(sa.select(t.users.c.is_admin).where(t.users.c.id == user_id))
            ).scalar_one()
        )
    if settings.oidc_only and not is_admin:
        raise Forbidden(
            Message("this instance signs in with %(oidc_name)s only", oidc_name=settings.oidc_name)
        )
    if (await status(db, user_id)).enabled:
        return "code"
    if is_admin and settings.require_2fa_admins:
        return "enrol"
    return "done"


async def check_password_grant(db: Database, settings: Settings, user_id: int) -> None:
    """The OAuth password grant takes no second factor: accounts that need one are refused."""
    if await password_step(db, settings, user_id) != "done":
        raise Forbidden("this account uses two-factor sign-in; log in through the browser instead")
