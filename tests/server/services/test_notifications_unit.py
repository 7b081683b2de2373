"""Notifications without a server: who is told of what, who is never told, and how reading
them re-checks what the reader may see."""

from __future__ import annotations

import sqlalchemy as sa

from server import clock
from server.services import conversations, follows, inbox_notifications, posts
from server.services import notifications as notes
from server.services.posts import Draft
from server.services.timelines import Page
from server.storage import schema as t
from server.visibility import Audience, Viewer
from tests.fast import notifications_of

A = Audience


def _v(person) -> Viewer:  # type: ignore[no-untyped-def]
    return Viewer(actor_id=person.actor_id, local=True)


async def _types(ctx, person):  # type: ignore[no-untyped-def]
    return [r.type for r in await notifications_of(ctx.db, person.actor_id)]


async def _say(ctx, person, text, **kw):  # type: ignore[no-untyped-def]
    return await posts.create_post(ctx, person.actor_id, Draft(source=text, **kw))


async def test_a_reply_tells_the_parents_author_once(ctx, crew) -> None:
    root = await _say(ctx, crew.ana, "root")
    await _say(ctx, crew.bo, "@ana answering", in_reply_to_id=root)
    await _say(ctx, crew.ana, "answering myself", in_reply_to_id=root)
    assert await _types(ctx, crew.ana) == ["mention"]


async def test_followers_who_asked_are_told_of_new_posts(ctx, crew) -> None:
    await follows.follow(ctx, crew.bo.actor_id, crew.ana.actor_id, notify=True)
    await follows.follow(ctx, crew.cy.actor_id, crew.ana.actor_id)
    await _say(ctx, crew.ana, "news")
    await _say(ctx, crew.ana, "secret", audience=A.DIRECT)
    assert await _types(ctx, crew.bo) == ["status"]
    assert await _types(ctx, crew.cy) == []


async def test_a_result_tells_the_community_and_its_contributors(ctx, crew) -> None:
    await _say(
        ctx,
        crew.ana,
        "we built the shed",
        kind="result",
        community_id=crew.community.id,
        contributor_ids=(crew.dan.actor_id,),
    )
    assert await _types(ctx, crew.bo) == ["koers.result"]
    assert await _types(ctx, crew.cy) == ["koers.result"]
    assert await _types(ctx, crew.dan) == ["mention"]
    assert await _types(ctx, crew.ana) == []


async def test_nobody_is_told_by_whom_they_block_or_mute_or_of_a_muted_thread(ctx, crew) -> None:
    await follows.block(ctx, crew.ana.actor_id, crew.bo.actor_id)
    await follows.mute(ctx, crew.ana.actor_id, crew.cy.actor_id)
    await follows.mute(ctx, crew.ana.actor_id, crew.dan.actor_id, notifications_too=False)
    await _say(ctx, crew.bo, "@ana hello")
    await _say(ctx, crew.cy, "@ana hello")
    await _say(ctx, crew.dan, "@ana hello")
    assert await _types(ctx, crew.ana) == ["mention"]  # dan's: muted, but not his notifications
    root = await _say(ctx, crew.ana, "a thread")
    await conversations.set_muted(ctx, crew.ana.actor_id, root, True)
    await _say(ctx, crew.dan, "@ana in the thread", in_reply_to_id=root)
    assert await _types(ctx, crew.ana) == ["mention"]


async def test_remote_actors_and_oneself_are_never_notified(ctx, member, remote_actor) -> None:
    async with ctx.db.write() as conn:
        await notes.notify(conn, remote_actor.id, "follow", from_actor_id=member.actor_id)
        await notes.notify(conn, member.actor_id, "follow", from_actor_id=member.actor_id)
        await notes.notify(conn, member.actor_id, "follow", from_actor_id=remote_actor.id)
    async with ctx.db.read() as conn:
        rows = list(await conn.execute(sa.select(t.notifications)))
    assert [(r.actor_id, r.from_actor_id) for r in rows] == [(member.actor_id, remote_actor.id)]


async def test_a_members_server_block_silences_that_server(ctx, member, remote_actor) -> None:
    from server.services import user_domain_blocks

    await user_domain_blocks.block_domain(ctx, member.actor_id, "remote.example")
    async with ctx.db.write() as conn:
        await notes.notify(conn, member.actor_id, "follow", from_actor_id=remote_actor.id)
    assert await _types(ctx, member) == []


async def test_boosters_are_told_of_an_edit(ctx, crew) -> None:
    pid = await _say(ctx, crew.ana, "first")
    await posts.reblog(ctx, crew.bo.actor_id, pid)
    await posts.edit_post(ctx, crew.ana.actor_id, pid, source="second")
    assert await _types(ctx, crew.bo) == ["update"]


async def test_listing_rechecks_the_post_and_filters_by_type(ctx, crew) -> None:
    await follows.follow(ctx, crew.bo.actor_id, crew.ana.actor_id)
    theirs = await _say(ctx, crew.bo, "like me")
    await posts.favourite(ctx, crew.ana.actor_id, theirs)
    await _say(
        ctx, crew.ana, "a reply for my followers", in_reply_to_id=theirs, audience=A.FOLLOWERS
    )
    bo = _v(crew.bo)
    async with ctx.db.read() as conn:
        ids = await inbox_notifications.list_ids(conn, bo, Page(), types=[], exclude=[])
        kinds = [r.type for r in await inbox_notifications.rows(conn, ids)]
        only = await inbox_notifications.list_ids(conn, bo, Page(), types=["favourite"], exclude=[])
        assert await inbox_notifications.unread_count(conn, bo) == 2
    assert kinds == ["mention", "favourite"] and len(only) == 1
    # The reply is for ana's followers: once bo no longer follows her, it is no longer listed.
    await follows.unfollow(ctx, crew.bo.actor_id, crew.ana.actor_id)
    async with ctx.db.read() as conn:
        ids = await inbox_notifications.list_ids(conn, bo, Page(), types=[], exclude=[])
        assert [r.type for r in await inbox_notifications.rows(conn, ids)] == ["favourite"]
        assert await inbox_notifications.unread_count(conn, bo) == 1


async def test_koers_kinds_are_listed_only_when_asked_and_dismissed(ctx, crew) -> None:
    await follows.follow(ctx, crew.ana.actor_id, crew.dan.actor_id)
    from server.services import communities

    await communities.add_member(ctx, crew.ana.actor_id, crew.community.id, "dan")
    dan = _v(crew.dan)
    async with ctx.db.read() as conn:
        plain = await inbox_notifications.list_ids(conn, dan, Page(), types=[], exclude=[])
        koers = await inbox_notifications.list_ids(
            conn, dan, Page(), types=["koers.member_added"], exclude=[]
        )
        assert await inbox_notifications.unread_count(conn, dan) == 1
        assert await inbox_notifications.unread_count(conn, dan, also=["koers.member_added"]) == 2
    assert len(plain) == 1 and len(koers) == 1
    await inbox_notifications.dismiss(ctx, crew.dan.actor_id, koers[0])
    assert await _types(ctx, crew.dan) == ["follow"]
    await inbox_notifications.dismiss(ctx, crew.dan.actor_id)
    assert await _types(ctx, crew.dan) == []


def test_every_kind_is_named_once() -> None:
    assert len(set(notes.TYPES)) == len(notes.TYPES)
    assert set(inbox_notifications.MASTODON_TYPES) <= set(notes.TYPES)


async def test_the_navigations_unread_count_rechecks_posts_and_stops_at_its_cap(ctx, crew) -> None:
    await follows.follow(ctx, crew.bo.actor_id, crew.ana.actor_id)
    theirs = await _say(ctx, crew.bo, "like me")
    await posts.favourite(ctx, crew.ana.actor_id, theirs)
    await _say(ctx, crew.ana, "for followers", in_reply_to_id=theirs, audience=A.FOLLOWERS)
    bo = _v(crew.bo)
    async with ctx.db.read() as conn:
        assert await inbox_notifications.unread_shown(conn, bo) == 2
        assert await inbox_notifications.unread_shown(conn, bo, cap=1) == 2  # "1+"
        assert await inbox_notifications.unread_shown(conn, bo, cap=0) == 1
    await follows.unfollow(ctx, crew.bo.actor_id, crew.ana.actor_id)
    async with ctx.db.read() as conn:  # the followers-only reply is out of sight, so uncounted
        assert await inbox_notifications.unread_shown(conn, bo) == 1
    async with ctx.db.write() as conn:  # more unread than one chunk: counted to the cap only
        await conn.execute(
            t.notifications.insert(),
            [
                {"actor_id": crew.bo.actor_id, "type": "follow", "created_at": clock.now()}
                for _ in range(450)
            ],
        )
    async with ctx.db.read() as conn:
        assert await inbox_notifications.unread_shown(conn, bo) == 100
        assert await inbox_notifications.unread_shown(conn, bo, cap=300) == 301
    await inbox_notifications.mark_all_read(ctx, crew.bo.actor_id)
    async with ctx.db.read() as conn:
        assert await inbox_notifications.unread_shown(conn, bo) == 0
