"""Federation through the application built but never started: what local actions send (one
delivery cycle through a recording transport) and what incoming activities do (one inbox
cycle), without HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import accounts, follows, posts
from server.services.posts import Draft
from server.storage import schema as t
from server.visibility import PUBLIC_COLLECTION, Audience
from tests.conftest import UNIT_URL

A = Audience
SHARED = "https://remote.example/inbox"
ANA = f"{UNIT_URL}/users/ana"


async def _follower(wired, remote_actor, member) -> None:  # type: ignore[no-untyped-def]
    """rosa follows ana, as her server would ask."""
    await wired.receive(remote_actor.activity("Follow", object=ANA), remote_actor)
    await wired.cycle()


async def _activity_states(unit_db):  # type: ignore[no-untyped-def]
    async with unit_db.read() as conn:
        return [
            (r.type, r.state)
            for r in await conn.execute(
                sa.select(t.activities)
                .where(t.activities.c.direction == "in")
                .order_by(t.activities.c.id)
            )
        ]


async def test_an_incoming_follow_is_accepted_and_answered(wired, member, remote_actor) -> None:
    await _follower(wired, remote_actor, member)
    async with wired.ctx.db.read() as conn:
        rel = await follows.relationship(conn, member.actor_id, remote_actor.id)
        notes = [r.type for r in await conn.execute(sa.select(t.notifications.c.type))]
    assert rel["followed_by"] and notes == ["follow"]
    assert wired.sent_types() == [(SHARED, "Accept")]
    accept = wired.transport.sent[0].activity
    assert accept["actor"] == ANA and accept["object"]["actor"] == remote_actor.uri
    assert await _activity_states(wired.ctx.db) == [("Follow", "done")]


async def test_a_locked_account_answers_only_when_it_decides(wired, member, remote_actor) -> None:
    await accounts.update_profile(wired.ctx.db, member.user_id, locked=True)
    await _follower(wired, remote_actor, member)
    assert wired.sent_types() == []
    await follows.accept_follow(wired.ctx, member.actor_id, remote_actor.id, member.actor_id)
    await wired.cycle()
    assert wired.sent_types() == [(SHARED, "Accept")]


async def test_a_post_goes_to_remote_followers_once_per_server(wired, member, remote_actor) -> None:
    await _follower(wired, remote_actor, member)
    other = await wired.remote_actor("otto")  # same server: one shared inbox
    await wired.receive(other.activity("Follow", object=ANA), other)
    await wired.cycle()
    wired.transport.sent.clear()
    pid = await posts.create_post(wired.ctx, member.actor_id, Draft(source="hello world"))
    _handled, delivered = await wired.cycle()
    assert delivered == 1 and wired.sent_types() == [(SHARED, "Create")]
    create = wired.transport.sent[0].activity
    assert create["object"]["id"] == f"{ANA}/posts/{pid}"
    assert create["to"] == [PUBLIC_COLLECTION] and create["cc"] == [f"{ANA}/followers"]


async def test_deliveries_are_signed_by_their_author(wired, member, remote_actor) -> None:
    from federation.actors import key_lookup_for
    from federation.signatures import verify_request

    await _follower(wired, remote_actor, member)
    await posts.create_post(wired.ctx, member.actor_id, Draft(source="signed"))
    await wired.cycle()
    for sent in wired.transport.sent:
        result = await verify_request(
            "POST", "/inbox", sent.headers, sent.body, key_lookup_for(wired.app)
        )
        assert result.owner == ANA and "digest" in result.headers


async def test_members_and_direct_posts_stay_with_who_may_see_them(
    wired, member, remote_actor
) -> None:
    await _follower(wired, remote_actor, member)
    wired.transport.sent.clear()
    await posts.create_post(wired.ctx, member.actor_id, Draft(source="ours", audience=A.MEMBERS))
    await posts.create_post(wired.ctx, member.actor_id, Draft(source="nobody", audience=A.DIRECT))
    await wired.cycle()
    assert wired.sent_types() == []
    await posts.create_post(
        wired.ctx, member.actor_id, Draft(source="@rosa@remote.example psst", audience=A.DIRECT)
    )
    await wired.cycle()
    assert wired.sent_types() == [(SHARED, "Create")]
    assert wired.transport.sent[0].activity["to"] == [remote_actor.uri]


async def test_edits_deletes_and_favourites_follow_the_post(wired, member, remote_actor) -> None:
    await _follower(wired, remote_actor, member)
    pid = await posts.create_post(wired.ctx, member.actor_id, Draft(source="v1"))
    await posts.edit_post(wired.ctx, member.actor_id, pid, source="v2")
    await posts.delete_post(wired.ctx, member.actor_id, pid)
    await wired.cycle()
    assert [kind for _, kind in wired.sent_types()] == ["Accept", "Create", "Update", "Delete"]
    assert wired.transport.sent[-1].activity["object"]["type"] == "Tombstone"


async def test_following_a_remote_account_sends_a_follow_and_its_accept_completes_it(
    wired, member, remote_actor
) -> None:
    assert await follows.follow(wired.ctx, member.actor_id, remote_actor.id) == "pending"
    await wired.cycle()
    assert wired.sent_types() == [(SHARED, "Follow")]
    follow = wired.transport.sent[0].activity
    await wired.receive(remote_actor.activity("Accept", object=follow), remote_actor)
    await wired.cycle()
    async with wired.ctx.db.read() as conn:
        assert (await follows.relationship(conn, member.actor_id, remote_actor.id))["following"]
    await follows.unfollow(wired.ctx, member.actor_id, remote_actor.id)
    await wired.cycle()
    assert wired.sent_types()[-1] == (SHARED, "Undo")


async def test_an_incoming_public_note_is_stored_and_a_like_counted(
    wired, member, remote_actor
) -> None:
    note = {
        "id": f"{remote_actor.uri}/statuses/1",
        "type": "Note",
        "attributedTo": remote_actor.uri,
        "content": "<p>hi @ana</p>",
        "to": [PUBLIC_COLLECTION],
        "cc": [f"{remote_actor.uri}/followers", ANA],
        "tag": [{"type": "Mention", "href": ANA, "name": "@ana@koers.test"}],
    }
    await wired.receive(remote_actor.activity("Create", object=note), remote_actor)
    pid = await posts.create_post(wired.ctx, member.actor_id, Draft(source="like this"))
    await wired.receive(remote_actor.activity("Like", object=f"{ANA}/posts/{pid}"), remote_actor)
    handled, _ = await wired.cycle()
    assert handled == 2
    async with wired.ctx.db.read() as conn:
        stored = (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == note["id"]))).one()
        liked = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == pid))).one()
        notes = sorted(r.type for r in await conn.execute(sa.select(t.notifications.c.type)))
    assert stored.audience == "public" and not stored.local and stored.author_id == remote_actor.id
    assert liked.favourites_count == 1
    assert notes == ["favourite", "mention"]


async def test_an_activity_is_handled_once_and_unknown_types_are_ignored(
    wired, member, remote_actor
) -> None:
    follow = remote_actor.activity("Follow", object=ANA)
    assert await wired.receive(follow, remote_actor) is not None
    assert await wired.receive(follow, remote_actor) is None  # a replay
    await wired.receive(remote_actor.activity("Dance", object=ANA), remote_actor)
    await wired.receive(
        remote_actor.activity("Follow", object=f"{UNIT_URL}/users/nobody"), remote_actor
    )
    await wired.cycle()
    assert await _activity_states(wired.ctx.db) == [
        ("Follow", "done"),
        ("Dance", "ignored"),
        ("Follow", "ignored"),
    ]


async def test_a_failing_delivery_is_retried_later(wired, member, remote_actor) -> None:
    await follows.follow(wired.ctx, member.actor_id, remote_actor.id)
    wired.transport.status = 503
    await wired.cycle()
    async with wired.ctx.db.read() as conn:
        row = (await conn.execute(sa.select(t.deliveries))).one()
    assert (row.state, row.attempts, row.last_status) == ("new", 1, 503)
    _handled, delivered = await wired.cycle()
    assert delivered == 0  # not due yet: backing off
