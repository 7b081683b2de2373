"""Settings → E-mail on a running instance: choices kept, a new address confirmed by its link,
invitations for administrators and managers only, and every bad input answered without writing."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import mail_members
from server.storage import schema as t
from tests.conftest import PASSWORD, Instance, post_form


async def _outbox(inst: Instance) -> list[sa.Row]:
    async with inst.db.read() as conn:
        return list(await conn.execute(sa.select(t.mail_outbox).order_by(t.mail_outbox.c.id)))


async def test_choices_are_kept(instance: Instance) -> None:
    ana = await instance.create_member("ana")
    client = await instance.login("ana")
    page = await client.get("/settings/email")
    text = await page.text()
    assert page.status == 200 and "ana@example.test" in text
    assert 'name="notify_mention" checked' in text and 'name="notify_approval">' in text
    resp = await post_form(
        client,
        "/settings/email/choices",
        {"notify_approval": "on", "digest": "on"},
        page="/settings/email",
    )
    assert resp.status == 302
    view = await mail_members.settings_view(instance.db, ana.user_id)
    assert view["notify"] == {
        "mention": False,
        "direct": False,
        "join_request": False,
        "approval": True,
        "decision_opened": False,
    }
    assert view["digest"] is True


async def test_a_new_address_needs_the_password_and_a_valid_free_address(
    instance: Instance,
) -> None:
    await instance.create_member("ana")
    await instance.create_member("bo")
    client = await instance.login("ana")
    for data, status, message in (
        ({"email": "new@example.test", "password": "wrong"}, 403, "wrong password"),
        ({"email": "not an address", "password": PASSWORD}, 422, "not a valid address"),
        ({"email": "bo@example.test", "password": PASSWORD}, 409, "exists already"),
    ):
        resp = await post_form(client, "/settings/email/change", data, page="/settings/email")
        assert resp.status == status and message in await resp.text()
    assert await _outbox(instance) == []
    resp = await post_form(
        client,
        "/settings/email/change",
        {"email": "new@example.test", "password": PASSWORD},
        page="/settings/email",
    )
    assert resp.status == 302
    (row,) = await _outbox(instance)
    assert row.to_address == "new@example.test"
    link = row.params["link"].removeprefix(instance.url)
    done = await client.get(link)
    assert done.status == 200 and "new@example.test" in await done.text()
    assert (await client.get(link)).status == 410


async def test_invitations_from_the_settings_page(instance: Instance) -> None:
    await instance.create_member("boss", admin=True)
    await instance.create_member("bo")
    member = await instance.login("bo")
    assert "Invite someone by e-mail" not in await (await member.get("/settings/email")).text()
    refused = await post_form(
        member, "/settings/email/invite", {"invite_email": "x@example.test"}, page="/settings/email"
    )
    assert refused.status == 403
    admin = await instance.login("boss")
    assert "Invite someone by e-mail" in await (await admin.get("/settings/email")).text()
    bad = await post_form(
        admin, "/settings/email/invite", {"invite_email": "nope"}, page="/settings/email"
    )
    assert bad.status == 422 and "not a valid address" in await bad.text()
    assert await _outbox(instance) == []
    ok = await post_form(
        admin,
        "/settings/email/invite",
        {"invite_email": "friend@example.test"},
        page="/settings/email",
    )
    assert ok.status == 302
    (row,) = await _outbox(instance)
    assert row.template == "invite" and "/signup?invite=" in row.params["link"]
    signup = await (await instance.new_client()).get(row.params["link"].removeprefix(instance.url))
    assert signup.status == 200


async def test_a_confirmation_link_can_be_sent_again(instance: Instance) -> None:
    client = await instance.new_client()
    resp = await post_form(
        client,
        "/signup",
        {
            "username": "sam",
            "email": "sam@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        page="/signup",
    )
    assert resp.status == 302
    page = await (await client.get("/settings/email")).text()
    assert "not confirmed yet" in page
    again = await post_form(client, "/settings/email/resend", {}, page="/settings/email")
    assert again.status == 302
    rows = [r for r in await _outbox(instance) if r.template == "confirm"]
    assert len(rows) == 2
    assert (await client.get("/mail/confirm/forged")).status == 410
    confirmed = await client.get(rows[-1].params["link"].removeprefix(instance.url))
    assert confirmed.status == 200
    late = await post_form(client, "/settings/email/resend", {}, page="/settings/email")
    assert late.status == 422 and "confirmed already" in await late.text()
