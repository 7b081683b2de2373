"""Mail in the recipient's language: the member's choice, else the instance's KOERS_LANGUAGE."""

from __future__ import annotations

import email

import sqlalchemy as sa

from server.services import languages, mail_accounts, mail_render, posts
from server.services.posts import Draft
from server.storage import schema as t


async def _last(ctx, template):  # type: ignore[no-untyped-def]
    q = sa.select(t.mail_outbox).where(t.mail_outbox.c.template == template)
    async with ctx.db.read() as conn:
        return list(await conn.execute(q.order_by(t.mail_outbox.c.id)))[-1]


def _text(message) -> str:  # type: ignore[no-untyped-def]
    parsed = email.message_from_bytes(message.as_bytes())
    return str(parsed.get_payload()[0].get_payload(decode=True).decode())


async def test_a_member_who_chose_dutch_gets_dutch_mail(ctx, crew) -> None:
    await languages.set_language(ctx.db, crew.ana.user_id, "nl")
    assert await languages.language_of(ctx.db, crew.ana.user_id) == "nl"
    await posts.create_post(ctx, crew.bo.actor_id, Draft(source="kijk eens @ana"))
    message = await mail_render.compose(ctx, await _last(ctx, "notification"))
    assert message is not None
    assert message["Subject"] == "@bo heeft je genoemd"
    body = _text(message)
    assert body.startswith("Hallo ") and "Bekijk het op" in body
    html = email.message_from_bytes(message.as_bytes()).get_payload()[1]
    assert '<html lang="nl">' in html.get_payload(decode=True).decode()

    await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    message = await mail_render.compose(ctx, await _last(ctx, "reset"))
    assert (
        message is not None
        and message["Subject"] == f"Nieuw wachtwoord voor {ctx.settings.instance_name}"
    )


async def test_without_a_choice_mail_is_in_english(ctx, crew) -> None:
    await posts.create_post(ctx, crew.bo.actor_id, Draft(source="look @ana"))
    message = await mail_render.compose(ctx, await _last(ctx, "notification"))
    assert message is not None and message["Subject"] == "@bo mentioned you"
    assert _text(message).startswith("Hello ")
