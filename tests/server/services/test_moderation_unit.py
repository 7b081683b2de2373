"""Moderation in the fast layer: suspension (login, tokens, the actor document, Delete/Update to
other servers), silence, roles and the last administrator, reports resolved, the audit log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Forbidden, NotFound, ValidationError
from server.services import accounts, moderation, oauth, posts, reports, timelines
from server.services.moderation import CLI, Staff
from server.services.posts import Draft
from server.services.timelines import Page
from server.storage import schema as t
from server.visibility import ANONYMOUS
from tests.conftest import PASSWORD, UNIT_URL

SHARED = "https://remote.example/inbox"
ANA = f"{UNIT_URL}/users/ana"


@pytest.fixture
async def admin(make_member):  # type: ignore[no-untyped-def]
    return await make_member("chief", admin=True)


def _staff(account, *, admin=True, moderator=False) -> Staff:  # type: ignore[no-untyped-def]
    return Staff(actor_id=account.actor_id, is_admin=admin, is_moderator=moderator)


async def test_suspension_locks_out_revokes_tokens_and_deletes_the_actor_elsewhere(
    wired, member, remote_actor, admin, api_token
) -> None:
    ctx = wired.ctx
    await wired.receive(remote_actor.activity("Follow", object=ANA), remote_actor)
    await wired.cycle()
    wired.transport.sent.clear()

    done = await moderation.suspend(ctx, _staff(admin), "ana", "spam")
    assert done.suspended
    with pytest.raises(Forbidden):
        await accounts.authenticate(ctx.db, "ana", PASSWORD, "192.0.2.1")
    async with ctx.db.read() as conn:
        assert await oauth.token_holder(conn, api_token) is None
        revoked = (
            (
                await conn.execute(
                    sa.select(t.oauth_tokens.c.revoked_at).where(
                        t.oauth_tokens.c.user_id == member.user_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert revoked and all(r is not None for r in revoked)
    await wired.cycle()
    assert wired.sent_types() == [(SHARED, "Delete")]
    delete = wired.transport.sent[0].activity
    assert delete["actor"] == ANA and delete["object"] == ANA

    wired.transport.sent.clear()
    back = await moderation.unsuspend(ctx, _staff(admin), "ana")
    assert not back.suspended
    await accounts.authenticate(ctx.db, "ana", PASSWORD, "192.0.2.1")
    await wired.cycle()
    assert wired.sent_types() == [(SHARED, "Update")]
    update = wired.transport.sent[0].activity
    assert update["object"]["id"] == ANA and "publicKey" in update["object"]

    log = await moderation.audit_log(ctx)
    assert [(e.action, e.by, e.summary, e.note) for e in log] == [
        ("unsuspend", "@chief", "@ana", ""),
        ("suspend", "@chief", "@ana", "spam"),
    ]


async def test_moderators_suspend_and_silence_but_do_not_change_roles(
    ctx, member, make_member, admin
) -> None:
    mod = await make_member("mo")
    await moderation.set_role(ctx, CLI, "mo", "moderator")
    by = _staff(mod, admin=False, moderator=True)
    await moderation.set_silenced(ctx, by, "ana", True)
    with pytest.raises(Forbidden):
        await moderation.set_role(ctx, by, "ana", "moderator")
    with pytest.raises(Forbidden):
        await moderation.suspend(ctx, by, "chief")  # an administrator: administrators only
    with pytest.raises(Forbidden):
        await moderation.suspend(ctx, Staff(member.actor_id, is_admin=False), "mo")
    with pytest.raises(ValidationError):
        await moderation.suspend(ctx, by, "mo")  # oneself
    with pytest.raises(NotFound):
        await moderation.suspend(ctx, by, "nobody")


async def test_the_last_administrator_stays(ctx, admin, make_member) -> None:
    with pytest.raises(ValidationError, match="last administrator"):
        await moderation.set_role(ctx, CLI, "chief", "member")
    with pytest.raises(ValidationError, match="last administrator"):
        await moderation.suspend(ctx, CLI, "chief")
    await make_member("second", admin=True)
    assert (await moderation.set_role(ctx, CLI, "chief", "moderator")).role == "moderator"
    assert [e.action for e in await moderation.audit_log(ctx)] == ["demote"]


async def test_a_silenced_member_leaves_the_public_feed_only(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="loud"))
    await moderation.set_silenced(ctx, CLI, "ana", True)
    async with ctx.db.read() as conn:
        public = await timelines.public(conn, ANONYMOUS, Page(limit=20))
        own = await timelines.public(conn, _viewer(member), Page(limit=20))
        others = await timelines.public(conn, _viewer(bo), Page(limit=20))
        seen = await _visible(conn, pid)
    assert pid not in public and pid not in others and pid in own
    assert seen, "the post itself stays visible to its audience"
    await moderation.set_silenced(ctx, CLI, "ana", False)
    async with ctx.db.read() as conn:
        assert pid in await timelines.public(conn, ANONYMOUS, Page(limit=20))


def _viewer(account):  # type: ignore[no-untyped-def]
    from server.visibility import Viewer

    return Viewer(actor_id=account.actor_id, local=True)


async def _visible(conn, pid: int) -> bool:  # type: ignore[no-untyped-def]
    from server.visibility import can_see_post

    return await can_see_post(conn, ANONYMOUS, pid)


async def test_reports_are_resolved_with_an_action_or_dismissed(
    ctx, member, make_member, admin
) -> None:
    bo = await make_member("bo")
    first = await reports.create_report(ctx, bo.actor_id, reports.ReportRequest(member.actor_id))
    second = await reports.create_report(
        ctx, bo.actor_id, reports.ReportRequest(member.actor_id, comment="again")
    )
    assert [r.id for r in await moderation.list_reports(ctx)] == [second, first]
    with pytest.raises(ValidationError):
        await moderation.resolve_report(ctx, _staff(admin), first, "ban")
    await moderation.resolve_report(ctx, _staff(admin), first, "none", "not a problem")
    await moderation.resolve_report(ctx, _staff(admin), second, "suspend", "repeat")
    with pytest.raises(ValidationError, match="already resolved"):
        await moderation.resolve_report(ctx, _staff(admin), second, "none")
    assert await moderation.list_reports(ctx) == []
    closed = await moderation.list_reports(ctx, resolved=True)
    assert [(r.id, r.resolution, r.resolution_note) for r in closed] == [
        (second, "suspend", "repeat"),
        (first, "none", "not a problem"),
    ]
    assert (await moderation.account(ctx, "ana")).suspended
    assert [e.action for e in await moderation.audit_log(ctx)] == [
        "resolve_report",
        "suspend",
        "dismiss_report",
    ]


async def test_accounts_are_found_by_name_and_state(ctx, member, make_member, admin) -> None:
    await make_member("bob", display_name="Bob Builder")
    await moderation.suspend(ctx, CLI, "bob")
    names = lambda rows: [a.username for a in rows[0]]  # noqa: E731
    assert names(await moderation.find_accounts(ctx, query="build")) == ["bob"]
    assert names(await moderation.find_accounts(ctx, state="suspended")) == ["bob"]
    assert names(await moderation.find_accounts(ctx, state="staff")) == ["chief"]
    assert names(await moderation.find_accounts(ctx, query="%")) == []
    with pytest.raises(ValidationError):
        await moderation.find_accounts(ctx, state="gone")
