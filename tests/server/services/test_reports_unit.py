"""Reports without a server: what may be reported, who hears of it, and the Flag to a remote
account's server when the reporter asks for it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import NotFound, ValidationError
from server.services import posts, reports
from server.services.posts import Draft
from server.services.reports import ReportRequest
from server.storage import schema as t
from server.visibility import Audience


async def _told(ctx, person):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return [
            r.extra["report_id"]
            for r in await conn.execute(
                sa.select(t.notifications.c.extra).where(
                    t.notifications.c.actor_id == person.actor_id,
                    t.notifications.c.type == "koers.report",
                )
            )
        ]


async def test_admins_and_the_communitys_managers_are_told(ctx, crew, make_member) -> None:
    admin = await make_member("root_admin", admin=True)
    pid = await posts.create_post(
        ctx,
        crew.bo.actor_id,
        Draft(source="rude", audience=Audience.COMMUNITY, community_id=crew.community.id),
    )
    report_id = await reports.create_report(
        ctx, crew.cy.actor_id, ReportRequest(crew.bo.actor_id, (pid, pid), comment="Not nice")
    )
    async with ctx.db.read() as conn:
        row = await reports.get_report(conn, report_id)
    assert (row.reporter_id, row.target_id, row.community_id) == (
        crew.cy.actor_id,
        crew.bo.actor_id,
        crew.community.id,
    )
    assert row.post_ids == [pid] and row.comment == "Not nice"
    assert await _told(ctx, admin) == [report_id]
    assert await _told(ctx, crew.ana) == [report_id]
    assert await _told(ctx, crew.cy) == [] and await _told(ctx, crew.bo) == []


async def test_an_account_without_posts_tells_only_the_admins(ctx, crew, make_member) -> None:
    admin = await make_member("mod", admin=True)
    await reports.create_report(ctx, crew.cy.actor_id, ReportRequest(crew.dan.actor_id))
    assert len(await _told(ctx, admin)) == 1 and await _told(ctx, crew.ana) == []


async def test_only_the_targets_visible_posts_may_be_named(ctx, crew) -> None:
    theirs = await posts.create_post(ctx, crew.bo.actor_id, Draft(source="x"))
    hidden = await posts.create_post(
        ctx, crew.bo.actor_id, Draft(source="y", audience=Audience.DIRECT)
    )
    other = await posts.create_post(ctx, crew.ana.actor_id, Draft(source="z"))
    for post_ids in ((hidden,), (other,), (999,), (theirs, other)):
        with pytest.raises(ValidationError):
            await reports.create_report(
                ctx, crew.cy.actor_id, ReportRequest(crew.bo.actor_id, post_ids)
            )
    assert await reports.create_report(
        ctx, crew.cy.actor_id, ReportRequest(crew.bo.actor_id, (theirs,))
    )


async def test_what_cannot_be_reported(ctx, crew) -> None:
    for req in (
        ReportRequest(crew.cy.actor_id),
        ReportRequest(crew.bo.actor_id, comment="c" * (reports.MAX_COMMENT + 1)),
        ReportRequest(crew.bo.actor_id, tuple(range(1, reports.MAX_POSTS + 2))),
    ):
        with pytest.raises(ValidationError):
            await reports.create_report(ctx, crew.cy.actor_id, req)
    with pytest.raises(NotFound):
        await reports.create_report(ctx, crew.cy.actor_id, ReportRequest(4242))


async def test_a_forwarded_report_of_a_remote_account_flags_it_at_home(
    wired, member, remote_actor
) -> None:
    await reports.create_report(
        wired.ctx, member.actor_id, ReportRequest(remote_actor.id, comment="spam", forward=True)
    )
    await reports.create_report(
        wired.ctx, member.actor_id, ReportRequest(remote_actor.id, comment="quiet")
    )
    await wired.cycle()
    assert [kind for _, kind in wired.sent_types()] == ["Flag"]
    flag = wired.transport.sent[0].activity
    assert remote_actor.uri in (
        flag["object"] if isinstance(flag["object"], list) else [flag["object"]]
    )
    assert flag["content"] == "spam"
