"""Following without a server: open and locked accounts, requests and their decisions, remote
targets, blocks, mutes and what relationship each side sees."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Forbidden, NotFound, ValidationError
from server.services import accounts, follows
from server.storage import schema as t
from tests.fast import notifications_of, record_events


async def _notes(db, actor_id):  # type: ignore[no-untyped-def]
    return [(r.type, r.from_actor_id) for r in await notifications_of(db, actor_id)]


async def _rel(db, me, other):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return await follows.relationship(conn, me, other)


@pytest.fixture
def people(ctx, make_member):  # type: ignore[no-untyped-def]
    async def make(*names: str, locked: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
        out = []
        for name in names:
            person = await make_member(name)
            if name in locked:
                await accounts.update_profile(ctx.db, person.user_id, locked=True)
            out.append(person)
        return out

    return make


async def test_an_open_account_is_followed_at_once_and_told(ctx, people) -> None:
    ana, bo = await people("ana", "bo")
    assert await follows.follow(ctx, ana.actor_id, bo.actor_id) == "accepted"
    assert (await _rel(ctx.db, ana.actor_id, bo.actor_id))["following"]
    assert (await _rel(ctx.db, bo.actor_id, ana.actor_id))["followed_by"]
    assert await _notes(ctx.db, bo.actor_id) == [("follow", ana.actor_id)]


async def test_a_locked_account_decides_and_the_request_note_turns_into_a_follow(
    ctx, people
) -> None:
    ana, cy = await people("ana", "cy", locked=("cy",))
    assert await follows.follow(ctx, ana.actor_id, cy.actor_id) == "pending"
    rel = await _rel(ctx.db, ana.actor_id, cy.actor_id)
    assert rel["requested"] and not rel["following"]
    assert (await _rel(ctx.db, cy.actor_id, ana.actor_id))["requested_by"]
    assert await _notes(ctx.db, cy.actor_id) == [("follow_request", ana.actor_id)]
    await follows.accept_follow(ctx, cy.actor_id, ana.actor_id, cy.actor_id)
    assert (await _rel(ctx.db, ana.actor_id, cy.actor_id))["following"]
    assert await _notes(ctx.db, cy.actor_id) == [("follow", ana.actor_id)]
    with pytest.raises(NotFound):
        await follows.accept_follow(ctx, cy.actor_id, ana.actor_id, cy.actor_id)


async def test_only_the_account_itself_decides_on_its_requests(ctx, people) -> None:
    ana, bo, cy = await people("ana", "bo", "cy", locked=("cy",))
    await follows.follow(ctx, ana.actor_id, cy.actor_id)
    with pytest.raises(Forbidden):
        await follows.accept_follow(ctx, bo.actor_id, ana.actor_id, cy.actor_id)
    with pytest.raises(Forbidden):
        await follows.reject_follow(ctx, bo.actor_id, ana.actor_id, cy.actor_id)
    assert (await _rel(ctx.db, ana.actor_id, cy.actor_id))["requested"]


async def test_a_rejected_request_is_gone_with_its_notification(ctx, people) -> None:
    ana, cy = await people("ana", "cy", locked=("cy",))
    await follows.follow(ctx, ana.actor_id, cy.actor_id)
    await follows.reject_follow(ctx, cy.actor_id, ana.actor_id, cy.actor_id, pending_only=True)
    rel = await _rel(ctx.db, ana.actor_id, cy.actor_id)
    assert not rel["requested"] and not rel["following"]
    assert await _notes(ctx.db, cy.actor_id) == []
    with pytest.raises(NotFound):
        await follows.reject_follow(ctx, cy.actor_id, ana.actor_id, cy.actor_id)


async def test_removing_a_follower_ends_an_accepted_follow_unless_pending_only(ctx, people) -> None:
    ana, bo = await people("ana", "bo")
    await follows.follow(ctx, ana.actor_id, bo.actor_id)
    with pytest.raises(NotFound):
        await follows.reject_follow(ctx, bo.actor_id, ana.actor_id, bo.actor_id, pending_only=True)
    await follows.reject_follow(ctx, bo.actor_id, ana.actor_id, bo.actor_id)
    assert not (await _rel(ctx.db, ana.actor_id, bo.actor_id))["following"]


async def test_following_again_keeps_the_state_and_updates_the_options(ctx, people) -> None:
    ana, bo = await people("ana", "bo")
    await follows.follow(ctx, ana.actor_id, bo.actor_id)
    assert (await _rel(ctx.db, ana.actor_id, bo.actor_id))["showing_reblogs"]
    again = await follows.follow(ctx, ana.actor_id, bo.actor_id, show_reblogs=False, notify=True)
    assert again == "accepted"
    rel = await _rel(ctx.db, ana.actor_id, bo.actor_id)
    assert not rel["showing_reblogs"] and rel["notifying"]
    async with ctx.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.follows))
        ).scalar_one() == 1


async def test_unfollow_withdraws_and_is_harmless_twice(ctx, people) -> None:
    ana, bo = await people("ana", "bo")
    await follows.follow(ctx, ana.actor_id, bo.actor_id)
    await follows.unfollow(ctx, ana.actor_id, bo.actor_id)
    await follows.unfollow(ctx, ana.actor_id, bo.actor_id)
    assert not (await _rel(ctx.db, ana.actor_id, bo.actor_id))["following"]


async def test_one_cannot_follow_oneself_or_nobody(ctx, member) -> None:
    with pytest.raises(ValidationError):
        await follows.follow(ctx, member.actor_id, member.actor_id)
    with pytest.raises(NotFound):
        await follows.follow(ctx, member.actor_id, 4242)


async def test_a_remote_account_is_asked_and_answers_later(ctx, member, remote_actor) -> None:
    seen = record_events(ctx, "follow.created")
    assert await follows.follow(ctx, member.actor_id, remote_actor.id) == "pending"
    assert seen[0].data["state"] == "pending" and seen[0].data["target_id"] == remote_actor.id
    assert await _notes(ctx.db, remote_actor.id) == []  # remote people are not notified here


async def test_a_block_ends_both_follows_and_refuses_new_ones_both_ways(ctx, people) -> None:
    ana, bo = await people("ana", "bo")
    await follows.follow(ctx, ana.actor_id, bo.actor_id)
    await follows.follow(ctx, bo.actor_id, ana.actor_id)
    await follows.block(ctx, ana.actor_id, bo.actor_id)
    await follows.block(ctx, ana.actor_id, bo.actor_id)  # once is enough
    mine, theirs = (
        await _rel(ctx.db, ana.actor_id, bo.actor_id),
        await _rel(ctx.db, bo.actor_id, ana.actor_id),
    )
    assert mine["blocking"] and not mine["following"] and not mine["followed_by"]
    assert theirs["blocked_by"] and not theirs["blocking"]
    for a, b in ((ana, bo), (bo, ana)):
        with pytest.raises(Forbidden):
            await follows.follow(ctx, a.actor_id, b.actor_id)
    await follows.unblock(ctx, ana.actor_id, bo.actor_id)
    assert await follows.follow(ctx, bo.actor_id, ana.actor_id) == "accepted"
    with pytest.raises(ValidationError):
        await follows.block(ctx, ana.actor_id, ana.actor_id)


async def test_mutes_with_or_without_notifications(ctx, people) -> None:
    ana, bo = await people("ana", "bo")
    await follows.mute(ctx, ana.actor_id, bo.actor_id, notifications_too=False)
    rel = await _rel(ctx.db, ana.actor_id, bo.actor_id)
    assert rel["muting"] and not rel["muting_notifications"]
    await follows.mute(ctx, ana.actor_id, bo.actor_id)
    assert (await _rel(ctx.db, ana.actor_id, bo.actor_id))["muting_notifications"]
    assert not (await _rel(ctx.db, bo.actor_id, ana.actor_id))["muting"]
    await follows.unmute(ctx, ana.actor_id, bo.actor_id)
    assert not (await _rel(ctx.db, ana.actor_id, bo.actor_id))["muting"]


async def test_followers_and_following_lists_newest_first(ctx, people) -> None:
    ana, bo, cy, dan = await people("ana", "bo", "cy", "dan", locked=("ana",))
    for who in (bo, cy, dan):
        await follows.follow(ctx, who.actor_id, ana.actor_id)
    await follows.accept_follow(ctx, ana.actor_id, cy.actor_id, ana.actor_id)
    await follows.accept_follow(ctx, ana.actor_id, bo.actor_id, ana.actor_id)
    async with ctx.db.read() as conn:
        accepted = [r.username for r in await conn.execute(follows.followers_query(ana.actor_id))]
        pending = [
            r.username
            for r in await conn.execute(follows.followers_query(ana.actor_id, state="pending"))
        ]
        following = [r.username for r in await conn.execute(follows.following_query(bo.actor_id))]
    assert accepted == ["cy", "bo"]  # by when they asked, newest first
    assert pending == ["dan"]
    assert following == ["ana"]
