"""Who a verified provider identity is: found by issuer + sub only, created under the
registration mode, linked once to an existing password account, refused when suspended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa

from server.config import Settings
from server.services import accounts, oidc_accounts
from server.services.oidc import Claims, SignInFailed
from server.services.oidc_accounts import PendingLogin
from server.storage import schema as t
from server.storage.db import Database

ISSUER = "https://login.example.org"
PENDING = PendingLogin("n", "v", "/home", None, None)
MakeMember = Callable[..., Awaitable[accounts.Account]]


def claims(sub: str, email: str, username: str = "", name: str = "") -> Claims:
    return Claims(ISSUER, sub, email, True, username, name)


async def _user(db: Database, user_id: int) -> sa.Row:
    async with db.read() as conn:
        row = await accounts.get_user(conn, user_id)
    assert row is not None
    return row


async def test_first_sign_in_creates_the_member_later_ones_find_it(
    unit_db: Database, unit_settings: Settings
) -> None:
    first = await oidc_accounts.complete(
        unit_db,
        unit_settings,
        claims("s-1", "Ana.Lopez@Example.org", "Ana.Lopez", "Ana L"),
        PENDING,
    )
    assert first.kind == "signed_in" and first.username == "ana_lopez"
    user = await _user(unit_db, first.user_id or 0)
    assert (user.email, user.display_name, user.user_state) == (
        "ana.lopez@example.org",
        "Ana L",
        "active",
    )
    again = await oidc_accounts.complete(
        unit_db, unit_settings, claims("s-1", "changed@example.org", "other"), PENDING
    )
    assert (again.kind, again.user_id) == ("signed_in", first.user_id)
    # the password login of such a member cannot succeed: there is no password
    with pytest.raises(Exception, match="wrong login or password"):
        await accounts.authenticate(unit_db, "ana_lopez", oidc_accounts.NO_PASSWORD, "1.2.3.4")


async def test_usernames_are_made_valid_and_unique(
    unit_db: Database, unit_settings: Settings, make_member: MakeMember
) -> None:
    await make_member("bo")
    a = await oidc_accounts.complete(unit_db, unit_settings, claims("a", "a@x.org", "Bo"), PENDING)
    b = await oidc_accounts.complete(unit_db, unit_settings, claims("b", "bo@y.org", ""), PENDING)
    c = await oidc_accounts.complete(
        unit_db, unit_settings, claims("c", "admin@z.org", "admin"), PENDING
    )
    assert (a.username, b.username) == ("bo2", "bo3")
    assert c.username == "member"  # "admin" is reserved, as the e-mail's local part


async def test_an_email_alone_never_signs_anyone_in(
    unit_db: Database, unit_settings: Settings, make_member: MakeMember
) -> None:
    ana = await make_member("ana", email="ana@example.org")
    outcome = await oidc_accounts.complete(
        unit_db, unit_settings, claims("s-9", "ANA@example.org"), PENDING
    )
    assert outcome.kind == "needs_link" and outcome.user_id is None
    await oidc_accounts.link_identity(unit_db, ana.user_id, claims("s-9", "ana@example.org"))
    later = await oidc_accounts.complete(
        unit_db, unit_settings, claims("s-9", "ana@example.org"), PENDING
    )
    assert (later.kind, later.user_id) == ("signed_in", ana.user_id)
    # another identity cannot take the link, and a member cannot link someone else's identity
    bo = await make_member("bo")
    with pytest.raises(SignInFailed, match="another member"):
        await oidc_accounts.link_identity(unit_db, bo.user_id, claims("s-9", "x@example.org"))


async def test_linking_while_signed_in(
    unit_db: Database, unit_settings: Settings, make_member: MakeMember
) -> None:
    ana = await make_member("ana")
    pending = PendingLogin("n", "v", "/settings/security", ana.user_id, None)
    outcome = await oidc_accounts.complete(
        unit_db, unit_settings, claims("s-2", "whatever@example.org"), pending
    )
    assert (outcome.kind, outcome.user_id) == ("linked", ana.user_id)
    assert [i.subject for i in await oidc_accounts.identities_of(unit_db, ana.user_id)] == ["s-2"]


@pytest.mark.parametrize("mode", ["approval", "invite", "closed"])
async def test_registration_mode_applies(
    unit_db: Database, unit_settings: Settings, make_member: MakeMember, mode: str
) -> None:
    settings = unit_settings.replace(registrations=mode)
    if mode == "approval":
        outcome = await oidc_accounts.complete(
            unit_db, settings, claims("s-3", "new@example.org", "new"), PENDING
        )
        assert outcome.kind == "pending"
        assert (await _user(unit_db, outcome.user_id or 0)).user_state == "pending"
        again = await oidc_accounts.complete(
            unit_db, settings, claims("s-3", "new@example.org"), PENDING
        )
        assert again.kind == "pending"
        return
    with pytest.raises(SignInFailed) as caught:
        await oidc_accounts.complete(unit_db, settings, claims("s-3", "new@example.org"), PENDING)
    assert caught.value.status == 403
    async with unit_db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.users))).scalar() == 0
    if mode == "invite":
        ana = await make_member("ana")
        code = await accounts.create_invite(unit_db, ana.user_id)
        with_invite = PendingLogin("n", "v", "/home", None, code)
        outcome = await oidc_accounts.complete(
            unit_db, settings, claims("s-3", "new@example.org", "new"), with_invite
        )
        assert outcome.kind == "signed_in"
        with pytest.raises(SignInFailed, match="used up"):
            await oidc_accounts.complete(
                unit_db, settings, claims("s-4", "n4@example.org"), with_invite
            )


async def test_suspended_or_disabled_members_cannot_get_in(
    unit_db: Database, unit_settings: Settings
) -> None:
    first = await oidc_accounts.complete(
        unit_db, unit_settings, claims("s-5", "sus@example.org", "sus"), PENDING
    )
    user = await _user(unit_db, first.user_id or 0)
    async with unit_db.write() as conn:
        await conn.execute(t.actors.update().where(t.actors.c.id == user.id).values(suspended=True))
    with pytest.raises(SignInFailed, match="suspended") as caught:
        await oidc_accounts.complete(
            unit_db, unit_settings, claims("s-5", "sus@example.org"), PENDING
        )
    assert caught.value.status == 403


async def test_no_email_claim_is_a_clear_refusal(
    unit_db: Database, unit_settings: Settings
) -> None:
    with pytest.raises(SignInFailed, match="e-mail"):
        await oidc_accounts.complete(unit_db, unit_settings, claims("s-6", "", "x"), PENDING)
