"""Two-factor sign-in: set-up, codes used once, recovery codes, the throttle, and what a
correct password leads to under the operator's settings."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pyotp
import pytest
import sqlalchemy as sa

from server.config import Settings
from server.errors import Conflict, Forbidden, RateLimited, ValidationError
from server.services import accounts, totp
from server.storage import schema as t
from server.storage.db import Database

MakeMember = Callable[..., Awaitable[accounts.Account]]


def _code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset * 30)


async def _enable(db: Database, settings: Settings, user_id: int) -> tuple[str, list[str]]:
    secret = await totp.start_setup(db, settings, user_id)
    codes = await totp.confirm_setup(db, settings, user_id, _code(secret, -1))
    return secret, codes


async def test_setup_needs_a_right_first_code(
    unit_db: Database, unit_settings: Settings, member: accounts.Account
) -> None:
    secret = await totp.start_setup(unit_db, unit_settings, member.user_id)
    assert not (await totp.status(unit_db, member.user_id)).enabled
    with pytest.raises(ValidationError):
        await totp.confirm_setup(unit_db, unit_settings, member.user_id, "000000")
    codes = await totp.confirm_setup(unit_db, unit_settings, member.user_id, _code(secret))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert await totp.status(unit_db, member.user_id) == totp.Status(True, 10)
    with pytest.raises(Conflict):
        await totp.start_setup(unit_db, unit_settings, member.user_id)
    async with unit_db.read() as conn:
        stored = (await conn.execute(sa.select(t.two_factor.c.secret))).scalar_one()
        hashes = list(
            (await conn.execute(sa.select(t.two_factor_recovery_codes.c.code_hash))).scalars()
        )
    assert secret not in stored  # encrypted at rest
    assert not set(codes) & set(hashes)
    uri = totp.provisioning_uri(unit_settings, secret, "ana")
    assert uri.startswith("otpauth://totp/") and "secret=" + secret in uri


async def test_a_code_works_once_and_recovery_codes_once(
    unit_db: Database, unit_settings: Settings, member: accounts.Account
) -> None:
    secret, codes = await _enable(unit_db, unit_settings, member.user_id)
    now = _code(secret)
    await totp.verify_sign_in(unit_db, unit_settings, member.user_id, now, "1.1.1.1")
    with pytest.raises(Forbidden):
        await totp.verify_sign_in(unit_db, unit_settings, member.user_id, now, "1.1.1.1")
    await totp.verify_sign_in(unit_db, unit_settings, member.user_id, codes[0].upper(), "1.1.1.1")
    with pytest.raises(Forbidden):
        await totp.verify_sign_in(unit_db, unit_settings, member.user_id, codes[0], "1.1.1.1")
    assert (await totp.status(unit_db, member.user_id)).recovery_left == 9


async def test_throttle_per_account_and_address_keeps_the_owner_in(
    unit_db: Database, unit_settings: Settings, member: accounts.Account
) -> None:
    secret, codes = await _enable(unit_db, unit_settings, member.user_id)
    for _ in range(totp.MAX_PER_ACCOUNT_AND_ADDRESS):
        with pytest.raises(Forbidden):
            await totp.verify_sign_in(unit_db, unit_settings, member.user_id, "123456", "6.6.6.6")
    # the guessing address is stopped, even with the right code ...
    with pytest.raises(RateLimited):
        await totp.verify_sign_in(
            unit_db, unit_settings, member.user_id, _code(secret, 1), "6.6.6.6"
        )
    # ... the owner elsewhere is not
    await totp.verify_sign_in(unit_db, unit_settings, member.user_id, _code(secret, 1), "2.2.2.2")
    # guesses spread over many addresses stop TOTP codes for the account, not recovery codes
    for n in range(totp.MAX_PER_ACCOUNT):
        try:
            await totp.verify_sign_in(
                unit_db, unit_settings, member.user_id, "654321", f"10.0.{n // 4}.{n}"
            )
        except (Forbidden, RateLimited):
            pass
    with pytest.raises(RateLimited, match="recovery"):
        await totp.verify_sign_in(unit_db, unit_settings, member.user_id, "111111", "3.3.3.3")
    await totp.verify_sign_in(unit_db, unit_settings, member.user_id, codes[1], "3.3.3.3")


async def test_disable_and_new_recovery_codes_need_a_code(
    unit_db: Database, unit_settings: Settings, member: accounts.Account
) -> None:
    secret, codes = await _enable(unit_db, unit_settings, member.user_id)
    with pytest.raises(ValidationError):
        await totp.regenerate_recovery_codes(unit_db, unit_settings, member.user_id, "000000")
    fresh = await totp.regenerate_recovery_codes(
        unit_db, unit_settings, member.user_id, _code(secret)
    )
    assert not set(fresh) & set(codes)
    with pytest.raises(ValidationError):
        await totp.disable(unit_db, unit_settings, member.user_id, codes[0])  # old codes are gone
    await totp.disable(unit_db, unit_settings, member.user_id, fresh[0])
    assert not (await totp.status(unit_db, member.user_id)).enabled


async def test_what_a_correct_password_leads_to(
    unit_db: Database, unit_settings: Settings, make_member: MakeMember
) -> None:
    ana = await make_member("ana")
    root = await make_member("root1", admin=True)
    assert await totp.password_step(unit_db, unit_settings, ana.user_id) == "done"
    required = unit_settings.replace(require_2fa_admins=True)
    assert await totp.password_step(unit_db, required, ana.user_id) == "done"
    assert await totp.password_step(unit_db, required, root.user_id) == "enrol"
    with pytest.raises(Forbidden):
        await totp.check_password_grant(unit_db, required, root.user_id)
    await _enable(unit_db, unit_settings, ana.user_id)
    assert await totp.password_step(unit_db, unit_settings, ana.user_id) == "code"
    with pytest.raises(Forbidden, match="two-factor"):
        await totp.check_password_grant(unit_db, unit_settings, ana.user_id)
    only = unit_settings.replace(
        oidc_issuer="https://login.example.org", oidc_only=True, oidc_name="Contoso"
    )
    with pytest.raises(Forbidden, match="Contoso"):
        await totp.password_step(unit_db, only, ana.user_id)
    assert await totp.password_step(unit_db, only, root.user_id) == "done"  # break-glass admin
