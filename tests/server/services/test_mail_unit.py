"""E-mail without a server: the queue's states and back-off, the mailed links, the account flows,
notification e-mails by preference, the digest, and the messages' headers."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import clock
from server.errors import Conflict, Forbidden, ValidationError
from server.services import (
    accounts,
    mail_accounts,
    mail_digest,
    mail_invites,
    mail_members,
    mail_queue,
    mail_render,
    posts,
)
from server.services.posts import Draft
from server.storage import schema as t
from server.visibility import Audience
from tests.conftest import PASSWORD


async def _queued(ctx, template=None):  # type: ignore[no-untyped-def]
    q = sa.select(t.mail_outbox).order_by(t.mail_outbox.c.id)
    if template:
        q = q.where(t.mail_outbox.c.template == template)
    async with ctx.db.read() as conn:
        return list(await conn.execute(q))


def _token(row) -> str:  # type: ignore[no-untyped-def]
    return str(row.params["link"]).rsplit("/", 1)[1]


async def _signup(ctx, name="sam"):  # type: ignore[no-untyped-def]
    return await accounts.create_account(
        ctx.db,
        ctx.settings,
        username=name,
        email=f"{name}@example.test",
        password=PASSWORD,
        confirm_email=True,
    )


def test_retries_come_within_a_minute_then_grow_to_an_hour() -> None:
    delays = [mail_queue.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[0] <= 60
    assert delays == sorted(delays) and delays[1] > delays[0]
    assert delays[-1] == 3600


async def test_a_temporary_failure_retries_a_permanent_one_fails(ctx, member) -> None:
    async with ctx.db.write() as conn:
        first = await mail_queue.enqueue(
            conn, "reset", user_id=member.user_id, params={"link": "x"}
        )
        second = await mail_queue.enqueue(conn, "reset", to="a@example.test", params={"link": "y"})
    claimed = await mail_queue.claim(ctx.db)
    assert [r.id for r in claimed] == [first, second]
    assert await mail_queue.claim(ctx.db) == []  # leased: nobody else takes them
    assert await mail_queue.finish(ctx.db, first, "retry", error="451 try later") == "new"
    assert await mail_queue.finish(ctx.db, second, "failed", error="550 no") == "failed"
    rows = {r.id: r for r in await _queued(ctx)}
    wait = clock.aware(rows[first].next_attempt_at) - clock.now()
    assert timedelta(seconds=20) < wait <= timedelta(seconds=60)
    assert await mail_queue.claim(ctx.db) == []  # not due yet
    assert 0 < (await mail_queue.next_due(ctx.db) or 0) <= 60


async def test_an_unconfirmed_member_may_not_post_until_confirmed(ctx) -> None:
    sam = await _signup(ctx)
    with pytest.raises(Forbidden, match="confirm your e-mail"):
        await posts.create_post(ctx, sam.actor_id, Draft(source="hello"))
    (mail,) = await _queued(ctx, "confirm")
    assert mail.user_id == sam.user_id
    with pytest.raises(ValidationError, match="not valid"):
        await mail_accounts.confirm(ctx, "not-a-token")
    await mail_accounts.confirm(ctx, _token(mail))
    assert await posts.create_post(ctx, sam.actor_id, Draft(source="hello"))
    with pytest.raises(ValidationError, match="used already"):
        await mail_accounts.confirm(ctx, _token(mail))


async def test_a_member_made_without_confirmation_posts_at_once(ctx, member) -> None:
    assert await posts.create_post(ctx, member.actor_id, Draft(source="hello"))
    assert await _queued(ctx) == []


async def test_reset_answers_alike_and_mails_only_members(ctx, member) -> None:
    await mail_accounts.request_reset(ctx, "nobody@example.test", "10.0.0.1")
    assert await _queued(ctx) == []
    await mail_accounts.request_reset(ctx, "ANA@example.test", "10.0.0.1")
    (mail,) = await _queued(ctx, "reset")
    assert mail.user_id == member.user_id and "/password/reset/" in mail.params["link"]
    with pytest.raises(ValidationError, match="not a valid address"):
        await mail_accounts.request_reset(ctx, "not an address", "10.0.0.1")


async def test_reset_is_throttled_per_account_and_per_client(ctx, member, make_member) -> None:
    for _ in range(mail_accounts.RESET_PER_ACCOUNT + 2):
        await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    assert len(await _queued(ctx, "reset")) == mail_accounts.RESET_PER_ACCOUNT
    others = [await make_member(f"m{i}") for i in range(mail_accounts.RESET_PER_CLIENT)]
    for person in others:
        await mail_accounts.request_reset(ctx, f"{person.username}@example.test", "10.0.0.2")
    # the first client's three count against 10.0.0.1 only: 10.0.0.2 got all ten, then no more
    assert len(await _queued(ctx, "reset")) == mail_accounts.RESET_PER_ACCOUNT + len(others)
    await make_member("late")
    await mail_accounts.request_reset(ctx, "late@example.test", "10.0.0.2")
    assert len(await _queued(ctx, "reset")) == mail_accounts.RESET_PER_ACCOUNT + len(others)


async def test_a_reset_link_works_once_within_the_hour_and_ends_all_access(ctx, member) -> None:
    await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    first, second = await _queued(ctx, "reset")
    async with ctx.db.write() as conn:
        await conn.execute(
            t.oauth_apps.insert().values(
                name="app",
                client_id="c",
                client_secret="s",
                redirect_uris="urn:x",
                scopes="read",
                created_at=clock.now(),
            )
        )
        app_id = (await conn.execute(sa.select(t.oauth_apps.c.id))).scalar_one()
        await conn.execute(
            t.oauth_tokens.insert().values(
                token_hash="h",
                app_id=app_id,
                user_id=member.user_id,
                scopes="read",
                created_at=clock.now(),
            )
        )
    with pytest.raises(ValidationError, match="at least 8"):
        await mail_accounts.reset_password(ctx, _token(first), "short")
    await mail_accounts.reset_password(ctx, _token(first), "a new long password")
    with pytest.raises(ValidationError, match="used already"):
        await mail_accounts.reset_password(ctx, _token(first), "another long password")
    with pytest.raises(ValidationError, match="used already"):  # its sibling is used up too
        await mail_accounts.reset_password(ctx, _token(second), "another long password")
    await accounts.authenticate(ctx.db, "ana", "a new long password", "10.0.0.1")
    async with ctx.db.read() as conn:
        token = (await conn.execute(sa.select(t.oauth_tokens))).one()
        standing = await mail_members.standing(conn, member.user_id)
    assert token.revoked_at is not None
    assert standing is not None and standing.sessions_after is not None


async def test_an_expired_reset_link_is_refused(ctx, member) -> None:
    await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    (mail,) = await _queued(ctx, "reset")
    async with ctx.db.write() as conn:
        await conn.execute(
            t.mail_tokens.update().values(expires_at=clock.now() - timedelta(seconds=1))
        )
    with pytest.raises(ValidationError, match="expired"):
        await mail_accounts.check_reset_link(ctx, _token(mail))


async def test_an_address_changes_only_when_the_new_one_is_confirmed(
    ctx, member, make_member
) -> None:
    await make_member("bo")
    with pytest.raises(Forbidden):
        await mail_accounts.start_email_change(ctx, member.user_id, "new@example.test", "wrong")
    with pytest.raises(Conflict):
        await mail_accounts.start_email_change(ctx, member.user_id, "bo@example.test", PASSWORD)
    with pytest.raises(ValidationError):
        await mail_accounts.start_email_change(ctx, member.user_id, "nope", PASSWORD)
    assert await _queued(ctx) == []
    await mail_accounts.start_email_change(ctx, member.user_id, "New@Example.test", PASSWORD)
    (mail,) = await _queued(ctx, "email_change")
    assert mail.to_address == "new@example.test"
    async with ctx.db.read() as conn:
        user = await accounts.get_user(conn, member.user_id)
    assert user is not None and user.email == "ana@example.test"
    assert await mail_accounts.finish_email_change(ctx, _token(mail)) == "new@example.test"
    async with ctx.db.read() as conn:
        user = await accounts.get_user(conn, member.user_id)
    assert user is not None and user.email == "new@example.test"
    (notice,) = await _queued(ctx, "email_changed")
    assert notice.to_address == "ana@example.test"
    message = await mail_render.compose(ctx, notice)
    assert message is not None and message["To"] == "ana@example.test"
    assert message["List-Unsubscribe"] is None


async def test_invitations_by_admins_and_managers_only(ctx, crew) -> None:
    with pytest.raises(Forbidden):
        await mail_invites.invite(ctx, crew.bo.user_id, "friend@example.test")
    link = await mail_invites.invite(ctx, crew.ana.user_id, "friend@example.test")  # manages garden
    (mail,) = await _queued(ctx, "invite")
    assert mail.to_address == "friend@example.test" and mail.params["link"] == link
    with pytest.raises(Conflict):
        await mail_invites.invite(ctx, None, "bo@example.test")
    code = link.split("invite=")[1]
    await accounts.create_account(
        ctx.db,
        ctx.settings,
        username="friend",
        email="friend@example.test",
        password=PASSWORD,
        invite_code=code,
    )
    with pytest.raises(ValidationError, match="used up"):
        await accounts.create_account(
            ctx.db,
            ctx.settings,
            username="again",
            email="again@example.test",
            password=PASSWORD,
            invite_code=code,
        )


async def test_mentions_and_direct_posts_are_mailed_by_default(ctx, crew) -> None:
    await posts.create_post(ctx, crew.bo.actor_id, Draft(source="hi @ana"))
    await posts.create_post(
        ctx, crew.bo.actor_id, Draft(source="@ana psst", audience=Audience.DIRECT)
    )
    kinds = [r.params["kind"] for r in await _queued(ctx, "notification")]
    assert kinds == ["mention", "direct"]
    await mail_members.set_choices(ctx.db, crew.ana.user_id, {"direct": True}, True)
    await posts.create_post(ctx, crew.bo.actor_id, Draft(source="again @ana"))
    assert len(await _queued(ctx, "notification")) == 2


async def test_a_notification_mail_says_who_and_what_and_offers_one_click_unsubscribe(
    ctx, crew
) -> None:
    await posts.create_post(ctx, crew.bo.actor_id, Draft(source="look at this @ana"))
    (row,) = await _queued(ctx, "notification")
    message = await mail_render.compose(ctx, row)
    assert message is not None
    assert message["To"] == "ana@example.test"
    assert message["Subject"] == "@bo mentioned you"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    user_id, kind = mail_render.read_unsubscribe_token(ctx.settings, link.rsplit("/", 1)[1]) or (
        0,
        "",
    )
    assert (user_id, kind) == (crew.ana.user_id, "mention")
    parsed = email.message_from_bytes(message.as_bytes())
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == ["multipart/alternative", "text/plain", "text/html"]
    assert "look at this" in parsed.get_payload()[0].get_payload(decode=True).decode()
    await mail_members.unsubscribe(ctx.db, user_id, kind)
    await posts.create_post(ctx, crew.bo.actor_id, Draft(source="more @ana"))
    assert len(await _queued(ctx, "notification")) == 1


async def test_security_mail_has_no_unsubscribe(ctx, member) -> None:
    await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    (row,) = await _queued(ctx, "reset")
    message = await mail_render.compose(ctx, row)
    assert message is not None and message["List-Unsubscribe"] is None
    assert mail_render.read_unsubscribe_token(ctx.settings, "forged") is None


async def test_the_digest_lists_the_weeks_results_and_new_members(ctx, crew) -> None:
    await posts.create_post(
        ctx,
        crew.ana.actor_id,
        Draft(
            source="we built the shed", kind="result", title="Shed", community_id=crew.community.id
        ),
    )
    async with ctx.db.write() as conn:  # everyone joined over a week ago
        await conn.execute(t.users.update().values(created_at=clock.now() - timedelta(days=8)))
    assert await mail_digest.queue_due(ctx) >= 2
    rows = await _queued(ctx, "digest")
    by_user = {r.user_id: r for r in rows}
    sections = by_user[crew.bo.user_id].params["sections"]
    assert [r["title"] for r in sections["results"]] == ["Shed"]
    assert crew.dan.user_id not in by_user  # in no community: nothing to tell
    message = await mail_render.compose(ctx, by_user[crew.bo.user_id])
    assert message is not None
    plain = message.get_body(("plain",))
    assert plain is not None and "Shed" in plain.get_content()
    assert message["List-Unsubscribe"] is not None
    assert await mail_digest.queue_due(ctx) == 0  # one a week


async def test_guessing_reset_links_is_throttled_per_client(ctx, member) -> None:
    from server.errors import RateLimited
    from server.services import login_throttle

    for _ in range(login_throttle.PAIR_FREE):
        with pytest.raises(ValidationError, match="not valid"):
            await mail_accounts.check_reset_link(ctx, "guess", "10.0.0.9")
    with pytest.raises(RateLimited):
        await mail_accounts.check_reset_link(ctx, "guess", "10.0.0.9")
    with pytest.raises(RateLimited):  # even a real link waits, from that client
        await mail_accounts.reset_password(ctx, "guess", "a long new password", "10.0.0.9")
    await mail_accounts.request_reset(ctx, "ana@example.test", "10.0.0.1")
    (mail,) = await _queued(ctx, "reset")
    # the owner, elsewhere, is not locked out
    await mail_accounts.reset_password(ctx, _token(mail), "a long new password", "10.0.0.1")
