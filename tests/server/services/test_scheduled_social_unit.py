"""Scheduled posts, roadmap supports and follows, and purpose endorsements without a server."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import clock
from server.errors import Forbidden, NotFound, ValidationError
from server.services import (
    posts,
    purpose,
    purpose_endorsements,
    roadmap,
    roadmap_social,
    scheduled,
)
from server.services.posts import Draft, PollSpec
from server.storage import schema as t
from server.visibility import Audience


async def _count(ctx, table):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


def test_a_drafts_parameters_survive_being_kept() -> None:
    draft = Draft(
        source="later",
        audience=Audience.UNLISTED,
        spoiler_text="cw",
        sensitive=True,
        language="nl",
        community_id=3,
        media_ids=(1, 2),
        poll=PollSpec(("a", "b"), 600, multiple=True),
        fmt="plain",
    )
    assert scheduled.draft_from(scheduled.params_of(draft)) == draft


async def test_a_scheduled_post_is_published_when_due_once(ctx, member) -> None:
    scheduled.register(ctx)
    when = clock.now() + timedelta(hours=1)
    sid = await scheduled.schedule(ctx, member.actor_id, Draft(source="later"), when)
    assert await scheduled.publish_due(ctx) == 0
    assert await scheduled.publish_due(ctx, now=when + timedelta(seconds=1)) == 1
    assert await scheduled.publish_due(ctx, now=when + timedelta(seconds=2)) == 0
    async with ctx.db.read() as conn:
        row = (await conn.execute(sa.select(t.posts))).one()
        with pytest.raises(NotFound):
            await scheduled.get(conn, member.actor_id, sid)
    assert row.source == "later" and row.extra == {"scheduled_id": sid}


async def test_scheduling_rules_and_owners(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    for when in (clock.now() + timedelta(minutes=1), clock.now() + timedelta(days=800)):
        with pytest.raises(ValidationError):
            await scheduled.schedule(ctx, member.actor_id, Draft(source="x"), when)
    with pytest.raises(ValidationError):
        await scheduled.schedule(
            ctx, member.actor_id, Draft(source=""), clock.now() + timedelta(hours=1)
        )
    sid = await scheduled.schedule(
        ctx, member.actor_id, Draft(source="x"), clock.now() + timedelta(hours=1)
    )
    with pytest.raises(NotFound):
        await scheduled.cancel(ctx, bo.actor_id, sid)
    await scheduled.reschedule(ctx, member.actor_id, sid, clock.now() + timedelta(hours=3))
    async with ctx.db.read() as conn:
        moved = await scheduled.get(conn, member.actor_id, sid)
    assert moved.scheduled_at > clock.now() + timedelta(hours=2)
    await scheduled.cancel(ctx, member.actor_id, sid)
    assert await _count(ctx, t.scheduled_posts) == 0


async def test_a_scheduled_reply_whose_parent_is_gone_is_dropped(ctx, member) -> None:
    scheduled.register(ctx)
    parent = await posts.create_post(ctx, member.actor_id, Draft(source="parent"))
    when = clock.now() + timedelta(hours=1)
    await scheduled.schedule(
        ctx, member.actor_id, Draft(source="reply", in_reply_to_id=parent), when
    )
    await posts.delete_post(ctx, member.actor_id, parent)
    assert await scheduled.publish_due(ctx, now=when + timedelta(seconds=1)) == 0
    assert await _count(ctx, t.scheduled_posts) == 0


async def test_supports_and_follows_of_a_roadmap_item(ctx, crew) -> None:
    item = await roadmap.create_item(ctx, crew.ana.actor_id, crew.community.id, title="Bins")
    assert await roadmap_social.support(ctx, crew.bo.actor_id, item) is True
    assert await roadmap_social.support(ctx, crew.bo.actor_id, item) is False
    assert await roadmap_social.support(ctx, crew.dan.actor_id, item) is True  # a public item
    assert await roadmap_social.follow(ctx, crew.cy.actor_id, item) is True
    async with ctx.db.read() as conn:
        bo = await roadmap_social.standing(conn, item, crew.bo.actor_id)
        nobody = await roadmap_social.standing(conn, item, None)
        counts = await roadmap_social.support_counts(conn, [item, 999])
    assert (bo.supports, bo.followers, bo.supporting, bo.following) == (2, 1, True, False)
    assert not nobody.supporting and counts == {item: 2}
    assert await roadmap_social.unsupport(ctx, crew.bo.actor_id, item) is True
    assert await roadmap_social.unsupport(ctx, crew.bo.actor_id, item) is False
    assert await roadmap_social.unfollow(ctx, crew.cy.actor_id, item) is True


async def test_a_hidden_item_cannot_be_supported(ctx, crew) -> None:
    item = await roadmap.create_item(
        ctx, crew.ana.actor_id, crew.community.id, title="Inside", audience="community"
    )
    with pytest.raises(NotFound):
        await roadmap_social.support(ctx, crew.dan.actor_id, item)
    assert await roadmap_social.support(ctx, crew.cy.actor_id, item)


async def test_members_endorse_the_purpose_in_force_again_after_a_change(ctx, crew) -> None:
    cid = crew.community.id
    assert await purpose_endorsements.endorse(ctx, crew.bo.actor_id, cid) == 1
    assert await purpose_endorsements.endorse(ctx, crew.bo.actor_id, cid) == 1
    with pytest.raises(Forbidden):
        await purpose_endorsements.endorse(ctx, crew.dan.actor_id, cid)
    async with ctx.db.read() as conn:
        assert await purpose_endorsements.has_endorsed(conn, cid, crew.bo.actor_id)
        assert not await purpose_endorsements.has_endorsed(conn, cid, None)
    await purpose.change_purpose(ctx, crew.ana.actor_id, cid, "Feed the street", "Focus")
    async with ctx.db.read() as conn:
        assert not await purpose_endorsements.has_endorsed(conn, cid, crew.bo.actor_id)
    assert await purpose_endorsements.endorse(ctx, crew.bo.actor_id, cid) == 2
    assert await purpose_endorsements.withdraw(ctx, crew.bo.actor_id, cid) == 2
    assert await purpose_endorsements.withdraw(ctx, crew.bo.actor_id, cid) is None
