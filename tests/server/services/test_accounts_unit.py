"""Accounts without a server: sign-up rules, uniqueness, logins with their throttle, profiles."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationError
from server.services import accounts
from server.storage import schema as t
from server.visibility import Audience
from tests.conftest import PASSWORD, UNIT_URL
from tests.fast import record_events


async def test_a_new_member_is_a_person_actor_with_keys_and_a_login(unit_db, make_member) -> None:
    ana = await make_member("Ana", display_name="  Ana de Wit  ")
    async with unit_db.read() as conn:
        user = await accounts.get_user(conn, ana.user_id)
    assert ana.username == "ana"
    assert user.kind == "person" and user.domain is None
    assert user.uri == f"{UNIT_URL}/users/ana"
    assert user.inbox == f"{UNIT_URL}/users/ana/inbox"
    assert user.display_name == "Ana de Wit"
    assert user.key_id == f"{user.uri}#main-key"
    assert "BEGIN PRIVATE KEY" in user.private_key_pem
    assert "BEGIN PUBLIC KEY" in user.public_key_pem
    assert user.default_audience == Audience.PUBLIC.value
    assert user.user_state == "active" and not user.is_admin
    assert user.email == "ana@example.test"


async def _organisations(db) -> int:
    async with db.read() as conn:
        count = await conn.execute(
            sa.select(sa.func.count())
            .select_from(t.actors)
            .where(t.actors.c.kind == "organization")
        )
        return int(count.scalar_one())


async def test_the_organisation_actor_exists_once(unit_db, unit_settings, org) -> None:
    assert org.username == "org" and org.kind == "organization"
    assert await accounts.ensure_organization(unit_db, unit_settings) == org.id
    assert await _organisations(unit_db) == 1


async def test_the_organisation_is_found_by_one_index_lookup_on_its_uri(
    unit_db, unit_settings, org
) -> None:
    """Each start looks the organisation up by its URI, not by walking every local actor."""
    ran: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        ran.append((statement, params))

    event.listen(unit_db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await accounts.ensure_organization(unit_db, unit_settings) == org.id
    finally:
        event.remove(unit_db.engine.sync_engine, "before_cursor_execute", seen)
    selects = [(sql, params) for sql, params in ran if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    async with unit_db.read() as conn:
        plan = (
            await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + selects[0][0], selects[0][1])
        ).all()
    details = " ".join(row[-1] for row in plan)
    assert "(uri=?)" in details, details


async def test_the_organisation_made_under_another_public_url_is_still_found(
    unit_db, unit_settings, org
) -> None:
    moved = dataclasses.replace(unit_settings, url="https://moved.example.test")
    assert await accounts.ensure_organization(unit_db, moved) == org.id
    assert await _organisations(unit_db) == 1


@pytest.mark.parametrize(
    ("username", "email", "password", "field"),
    [
        ("", "a@example.test", PASSWORD, "username"),
        ("has space", "a@example.test", PASSWORD, "username"),
        ("x" * 31, "a@example.test", PASSWORD, "username"),
        ("admin", "a@example.test", PASSWORD, "username"),
        ("ana", "not-an-email", PASSWORD, "email"),
        ("ana", "a@example.test", "short", "password"),
        ("ana", "a@example.test", "x" * 1025, "password"),
    ],
)
async def test_bad_sign_ups_are_refused_and_write_nothing(
    unit_db, unit_settings, username, email, password, field
) -> None:
    with pytest.raises(ValidationError) as err:
        await accounts.create_account(
            unit_db, unit_settings, username=username, email=email, password=password
        )
    assert err.value.field == field
    assert await accounts.list_accounts(unit_db) == []


async def test_usernames_and_emails_are_unique_whatever_their_case(make_member) -> None:
    await make_member("ana")
    with pytest.raises(Conflict) as err:
        await make_member("ANA", email="other@example.test")
    assert err.value.field == "username"
    with pytest.raises(Conflict) as err:
        await make_member("bo", email="ANA@example.test")
    assert err.value.field == "email"


async def test_a_community_handle_is_taken_for_members_too(ctx, member) -> None:
    from server.services import communities

    await communities.create_community(
        ctx, member.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    with pytest.raises(Conflict):
        await accounts.create_account(
            ctx.db, ctx.settings, username="garden", email="g@example.test", password=PASSWORD
        )


async def test_login_by_username_or_email_with_the_right_password(unit_db, member) -> None:
    by_name = await accounts.authenticate(unit_db, "Ana", PASSWORD, "127.0.0.1")
    by_mail = await accounts.authenticate(unit_db, "ana@example.test", PASSWORD, "127.0.0.1")
    assert by_name == by_mail == member
    async with unit_db.read() as conn:
        assert (await accounts.get_user(conn, member.user_id)) is not None
    for login, password in [("ana", "wrong password"), ("nobody", PASSWORD)]:
        with pytest.raises(Forbidden, match="wrong login or password"):
            await accounts.authenticate(unit_db, login, password, "127.0.0.1")


async def test_failed_logins_are_throttled_per_login_and_address(unit_db, member) -> None:
    for _ in range(accounts.LOGIN_MAX_FAILURES):
        with pytest.raises(Forbidden):
            await accounts.authenticate(unit_db, "ana", "wrong password", "10.0.0.1")
    with pytest.raises(RateLimited):
        await accounts.authenticate(unit_db, "ana", PASSWORD, "10.0.0.1")
    # the owner on another address is not locked out (issue 11, finding 5)
    assert await accounts.authenticate(unit_db, "ana", PASSWORD, "10.0.0.2") == member


async def test_a_successful_login_clears_the_failures(unit_db, member) -> None:
    for _ in range(accounts.LOGIN_MAX_FAILURES - 1):
        with pytest.raises(Forbidden):
            await accounts.authenticate(unit_db, "ana", "wrong password", "10.0.0.1")
    await accounts.authenticate(unit_db, "ana", PASSWORD, "10.0.0.1")
    with pytest.raises(Forbidden, match="wrong"):
        await accounts.authenticate(unit_db, "ana", "wrong password", "10.0.0.1")
    await accounts.authenticate(unit_db, "ana", PASSWORD, "10.0.0.1")


async def test_pending_accounts_wait_for_approval(unit_db, make_member) -> None:
    bo = await make_member("bo", state="pending", reason="I garden")
    with pytest.raises(Forbidden, match="waiting for approval"):
        await accounts.authenticate(unit_db, "bo", PASSWORD, "127.0.0.1")
    await accounts.approve_user(unit_db, bo.user_id)
    assert await accounts.authenticate(unit_db, "bo", PASSWORD, "127.0.0.1") == bo
    with pytest.raises(NotFound):
        await accounts.approve_user(unit_db, bo.user_id)


async def test_a_rejected_sign_up_disappears(unit_db, make_member) -> None:
    cy = await make_member("cy", state="pending")
    await accounts.reject_user(unit_db, cy.user_id)
    assert [r.username for r in await accounts.list_accounts(unit_db)] == []
    await make_member("cy")  # the name is free again


async def test_invites_are_counted_and_unknown_ones_refused(unit_db, unit_settings, member) -> None:
    async def sign_up(name: str, code: str) -> accounts.Account:
        return await accounts.create_account(
            unit_db,
            unit_settings,
            username=name,
            email=f"{name}@example.test",
            password=PASSWORD,
            invite_code=code,
        )

    code = await accounts.create_invite(unit_db, member.user_id, max_uses=1)
    await sign_up("bo", code)
    with pytest.raises(ValidationError, match="used up"):
        await sign_up("cy", code)
    with pytest.raises(ValidationError, match="not valid"):
        await sign_up("cy", "made-up")
    assert [r.username for r in await accounts.list_accounts(unit_db)] == ["ana", "bo"]


async def test_profile_changes_render_and_validate(unit_db, member) -> None:
    await accounts.update_profile(
        unit_db,
        member.user_id,
        display_name="Ana",
        bio="I like **compost**",
        fields=[("Site", "https://ana.example"), ("", "")],
        locked=True,
    )
    async with unit_db.read() as conn:
        user = await accounts.get_user(conn, member.user_id)
    assert "<strong>compost</strong>" in user.summary_html
    assert user.bio_source == "I like **compost**"
    assert [f["name"] for f in user.fields] == ["Site"]
    assert user.manually_approves_followers
    for bad in (
        {"display_name": "x" * 101},
        {"bio": "x", "bio_format": "html"},
        {"fields": [(f"n{i}", "v") for i in range(accounts.MAX_FIELDS + 1)]},
        {"fields": [("", "value without a name")]},
        {"default_audience": "community"},
        {"default_audience": "everyone"},
    ):
        with pytest.raises(ValidationError):
            await accounts.update_profile(unit_db, member.user_id, **bad)
    with pytest.raises(NotFound):
        await accounts.update_profile(unit_db, 9999, display_name="x")


async def test_a_profile_change_emits_one_actor_update(ctx, member) -> None:
    seen = record_events(ctx, "actor.updated")
    await accounts.update_profile(ctx.db, member.user_id, display_name="Ana", events=ctx.events)
    await accounts.update_profile(ctx.db, member.user_id, default_audience="followers")
    assert [(e.kind, e.data) for e in seen] == [("actor.updated", {"actor_id": member.actor_id})]


async def test_competencies_are_normalised_and_people_found_by_them(unit_db, make_member) -> None:
    assert accounts.parse_competencies(
        [("  Bee  Keeping ", "Expert"), ("", "learning"), ("welding", " ")]
    ) == [("bee keeping", "expert"), ("welding", None)]
    assert accounts.parse_competencies([("soil", "learning"), ("Soil", "expert")]) == [
        ("soil", "expert")
    ]  # the last word on a name counts
    with pytest.raises(ValidationError):
        accounts.parse_competencies([("x", "guru")])
    ana, bo, cy = [await make_member(n) for n in ("ana", "bo", "cy")]
    for who in (ana, bo, cy):
        await accounts.update_profile(unit_db, who.user_id, discoverable=who is not cy)
    await accounts.set_competencies(unit_db, ana.actor_id, [("Gardening", "learning")])
    await accounts.set_competencies(
        unit_db, bo.actor_id, [("gardening", "expert"), ("welding", None)]
    )
    await accounts.set_competencies(unit_db, cy.actor_id, [("gardening", "expert")])
    async with unit_db.read() as conn:
        assert [(r.name, r.level) for r in await accounts.competencies_of(conn, bo.actor_id)] == [
            ("gardening", "expert"),
            ("welding", None),
        ]
        found = await accounts.people_with_competency(conn, "GARD")
        assert [(r.username, r.level) for r in found] == [("bo", "expert"), ("ana", "learning")]
        assert [
            r.username for r in await accounts.people_sharing_competencies(conn, ana.actor_id)
        ] == ["bo"]
    await accounts.set_competencies(unit_db, bo.actor_id, [])
    async with unit_db.read() as conn:
        assert await accounts.competencies_of(conn, bo.actor_id) == []
