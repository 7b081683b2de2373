"""Every mail but security mail carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` — the
invitation, which goes to an address that is no member's, included: its one-click link opts the
address out, after which nobody invites it again and a queued invitation is not sent."""

from __future__ import annotations

import sqlalchemy as sa

from server.errors import Conflict
from server.services import mail_invites, mail_opt_outs, mail_render
from server.storage import schema as t
from tests.conftest import Instance


async def _invitations(ctx):  # type: ignore[no-untyped-def]
    q = sa.select(t.mail_outbox).where(t.mail_outbox.c.template == "invite")
    async with ctx.db.read() as conn:
        return list(await conn.execute(q.order_by(t.mail_outbox.c.id)))


def test_every_kind_of_mail_is_security_mail_or_has_an_unsubscribe_path() -> None:
    """A new template must be one or the other (``build`` gives every non-security one a link)."""
    assert set(mail_render.SUBJECTS) - mail_render.SECURITY == {"invite", "notification", "digest"}


async def test_an_invitation_offers_one_click_unsubscribe_for_its_address(ctx, member) -> None:
    await mail_invites.invite(ctx, None, "Guest@Example.test")
    (row,) = await _invitations(ctx)
    message = await mail_render.compose(ctx, row)
    assert message is not None and message["To"] == "guest@example.test"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"]
    assert link.startswith(f"<{ctx.settings.url}/mail/unsubscribe/") and link.endswith(">")
    token = link.strip("<>").rsplit("/", 1)[1]
    assert mail_render.read_address_unsubscribe_token(ctx.settings, token) == (
        "guest@example.test",
        "invite",
    )
    # a member's token is not an address's, nor the other way round
    assert mail_render.read_unsubscribe_token(ctx.settings, token) is None
    member_token = mail_render.unsubscribe_token(ctx.settings, member.user_id, "digest")
    assert mail_render.read_address_unsubscribe_token(ctx.settings, member_token) is None
    plain = message.get_body(("plain",))
    assert plain is not None and "To stop these e-mails:" in plain.get_content()


async def test_an_address_that_opted_out_is_not_invited_again(ctx) -> None:
    await mail_invites.invite(ctx, None, "guest@example.test")
    (queued,) = await _invitations(ctx)
    await mail_opt_outs.opt_out(ctx.db, "GUEST@example.test", "invite")
    await mail_opt_outs.opt_out(ctx.db, "guest@example.test", "invite")  # twice is harmless
    await mail_opt_outs.opt_out(ctx.db, "guest@example.test", "reset")  # not a kind to opt out of
    assert await mail_render.compose(ctx, queued) is None  # the waiting one is not sent
    try:
        await mail_invites.invite(ctx, None, "guest@example.test")
    except Conflict as exc:
        assert exc.field == "email" and "no more invitations" in exc.message
    else:
        raise AssertionError("an opted-out address was invited again")
    assert len(await _invitations(ctx)) == 1
    await mail_invites.invite(ctx, None, "other@example.test")
    assert len(await _invitations(ctx)) == 2


async def test_the_one_click_post_opts_the_address_out(instance: Instance) -> None:
    admin = await instance.create_member("ana", admin=True)
    await mail_invites.invite(instance.ctx, admin.user_id, "guest@example.test")
    (row,) = await _invitations(instance.ctx)
    message = await mail_render.compose(instance.ctx, row)
    assert message is not None
    path = message["List-Unsubscribe"].strip("<>").removeprefix(instance.url)
    page = await instance.client.get(path)
    assert page.status == 200 and "Stop these e-mails?" in await page.text()
    # what a mail client sends (RFC 8058): no cookie, no CSRF token
    done = await instance.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status == 200 and "can invite this address again" in await done.text()
    async with instance.db.read() as conn:
        assert await mail_opt_outs.opted_out(conn, "guest@example.test", "invite")
    forged = await instance.client.post(path + "x", data={"List-Unsubscribe": "One-Click"})
    assert "not one of ours" in await forged.text()
