"""Timelines without a server: what home, public, tag, profile, community and thread listings
contain for each viewer, newest first, and how paging cuts them."""

from __future__ import annotations

import pytest

from server.services import communities, follows, posts, timelines, user_domain_blocks
from server.services.posts import Draft
from server.storage import schema as t
from server.visibility import ANONYMOUS, Audience, Viewer

A = Audience
Page = timelines.Page


def _v(person) -> Viewer:  # type: ignore[no-untyped-def]
    return Viewer(actor_id=person.actor_id, local=True)


async def _say(ctx, person, text, **kw):  # type: ignore[no-untyped-def]
    return await posts.create_post(ctx, person.actor_id, Draft(source=text, **kw))


async def _read(ctx, fn, *args, **kw):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return await fn(conn, *args, **kw)


async def test_home_has_own_followed_and_community_posts_newest_first(ctx, crew) -> None:
    mine = await _say(ctx, crew.bo, "mine")
    await follows.follow(ctx, crew.bo.actor_id, crew.dan.actor_id)
    followed = await _say(ctx, crew.dan, "followed")
    in_community = await _say(
        ctx, crew.ana, "garden news", audience=A.COMMUNITY, community_id=crew.community.id
    )
    await _say(ctx, crew.cy, "a member I do not follow, outside the community")
    ids = await _read(ctx, timelines.home, _v(crew.bo), Page())
    assert ids == [in_community, followed, mine]


async def test_home_shows_a_followed_persons_followers_posts_and_boosts_unless_turned_off(
    ctx, crew
) -> None:
    await follows.follow(ctx, crew.bo.actor_id, crew.dan.actor_id)
    private = await _say(ctx, crew.dan, "for followers", audience=A.FOLLOWERS)
    other = await _say(ctx, crew.cy, "boost me")
    boost = await posts.reblog(ctx, crew.dan.actor_id, other)
    assert await _read(ctx, timelines.home, _v(crew.bo), Page()) == [boost, private]
    await follows.follow(ctx, crew.bo.actor_id, crew.dan.actor_id, show_reblogs=False)
    assert await _read(ctx, timelines.home, _v(crew.bo), Page()) == [private]


async def test_muted_and_blocked_authors_leave_home_and_public(ctx, crew) -> None:
    await follows.follow(ctx, crew.bo.actor_id, crew.dan.actor_id)
    await follows.follow(ctx, crew.bo.actor_id, crew.cy.actor_id)
    muted = await _say(ctx, crew.dan, "muted")
    blocked = await _say(ctx, crew.cy, "blocked")
    await follows.mute(ctx, crew.bo.actor_id, crew.dan.actor_id)
    await follows.block(ctx, crew.bo.actor_id, crew.cy.actor_id)
    for listing in (timelines.home, timelines.public):
        ids = await _read(ctx, listing, _v(crew.bo), Page())
        assert muted not in ids and blocked not in ids
    assert {muted, blocked} <= set(await _read(ctx, timelines.public, ANONYMOUS, Page()))


async def test_a_members_domain_block_hides_that_servers_posts(ctx, crew, remote_actor) -> None:
    import sqlalchemy as sa

    from server import clock

    async with ctx.db.write() as conn:
        res = await conn.execute(
            t.posts.insert().values(
                uri=f"{remote_actor.uri}/notes/1",
                author_id=remote_actor.id,
                local=False,
                kind="note",
                audience="public",
                content_html="<p>far</p>",
                extra={},
                created_at=clock.now(),
            )
        )
        remote_post = int(res.inserted_primary_key[0])
        assert (await conn.execute(sa.select(t.posts.c.local))).scalar() is False
    local_post = await _say(ctx, crew.ana, "near")
    everything = await _read(ctx, timelines.public, _v(crew.bo), Page())
    assert everything == [local_post, remote_post]
    assert await _read(ctx, timelines.public, ANONYMOUS, Page(), local=True) == [local_post]
    assert await _read(ctx, timelines.public, ANONYMOUS, Page(), remote=True) == [remote_post]
    await user_domain_blocks.block_domain(ctx, crew.bo.actor_id, "remote.example")
    assert await _read(ctx, timelines.public, _v(crew.bo), Page()) == [local_post]


async def test_the_public_timeline_leaves_out_unlisted_boosts_and_closed_posts(ctx, crew) -> None:
    public = await _say(ctx, crew.ana, "public")
    await _say(ctx, crew.ana, "unlisted", audience=A.UNLISTED)
    await _say(ctx, crew.ana, "members", audience=A.MEMBERS)
    await posts.reblog(ctx, crew.bo.actor_id, public)
    for viewer in (ANONYMOUS, _v(crew.bo)):
        assert await _read(ctx, timelines.public, viewer, Page()) == [public]


async def test_a_tag_lists_visible_listed_posts_whatever_the_case(ctx, crew) -> None:
    tagged = await _say(ctx, crew.ana, "#Compost works")
    member_only = await _say(ctx, crew.ana, "#compost here", audience=A.MEMBERS)
    await _say(ctx, crew.ana, "#compost quietly", audience=A.UNLISTED)
    await _say(ctx, crew.ana, "no tag")
    assert await _read(ctx, timelines.tag, ANONYMOUS, "COMPOST", Page()) == [tagged]
    assert await _read(ctx, timelines.tag, _v(crew.dan), "compost", Page()) == [
        member_only,
        tagged,
    ]


async def test_a_profile_shows_listed_posts_and_its_owner_everything(ctx, crew) -> None:
    public = await _say(ctx, crew.ana, "public")
    unlisted = await _say(ctx, crew.ana, "unlisted", audience=A.UNLISTED)
    reply = await _say(ctx, crew.ana, "reply", in_reply_to_id=public)
    await posts.set_flag(ctx, crew.ana.actor_id, public, t.pins, True)
    aid = crew.ana.actor_id
    assert await _read(ctx, timelines.profile, ANONYMOUS, aid, Page()) == [reply, public]
    assert await _read(ctx, timelines.profile, _v(crew.ana), aid, Page()) == [
        reply,
        unlisted,
        public,
    ]
    assert await _read(ctx, timelines.profile, ANONYMOUS, aid, Page(), exclude_replies=True) == [
        public
    ]
    assert await _read(ctx, timelines.profile, ANONYMOUS, aid, Page(), pinned=True) == [public]


async def test_a_community_feed_and_its_results(ctx, crew) -> None:
    cid = crew.community.id
    note = await _say(ctx, crew.bo, "note", audience=A.COMMUNITY, community_id=cid)
    result = await _say(
        ctx, crew.ana, "we built it", kind="result", audience=A.PUBLIC, community_id=cid
    )
    await _say(ctx, crew.ana, "elsewhere")
    assert await _read(ctx, timelines.community, _v(crew.cy), cid, Page()) == [result, note]
    assert await _read(ctx, timelines.community, ANONYMOUS, cid, Page()) == [result]
    assert await _read(ctx, timelines.community, ANONYMOUS, cid, Page(), only_results=True) == [
        result
    ]
    assert await _read(ctx, timelines.results, ANONYMOUS, Page()) == [result]


async def test_a_thread_in_reading_order_without_what_the_viewer_cannot_see(ctx, crew) -> None:
    root = await _say(ctx, crew.ana, "root")
    first = await _say(ctx, crew.bo, "first", in_reply_to_id=root)
    hidden = await _say(ctx, crew.cy, "for followers", in_reply_to_id=first, audience=A.FOLLOWERS)
    second = await _say(ctx, crew.ana, "second", in_reply_to_id=root)
    deep = await _say(ctx, crew.bo, "deep", in_reply_to_id=first)
    async with ctx.db.read() as conn:
        assert await timelines.thread(conn, ANONYMOUS, root) == ([], [first, deep, second])
        assert await timelines.thread(conn, _v(crew.cy), deep) == ([root, first], [])
        assert await timelines.thread(conn, _v(crew.cy), first) == ([root], [hidden, deep])


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (Page(limit=2), [5, 4]),
        (Page(max_id=4, limit=2), [3, 2]),
        (Page(since_id=3), [5, 4]),
        (Page(min_id=1, limit=2), [3, 2]),
        (Page(limit=0), [5]),
        (Page(limit=1000), [5, 4, 3, 2, 1]),
    ],
)
async def test_paging_by_id(ctx, member, page, expected) -> None:
    ids = [await _say(ctx, member, f"post {n}") for n in range(5)]
    got = await _read(ctx, timelines.public, ANONYMOUS, page)
    assert got == [ids[i - 1] for i in expected]


async def test_search_finds_visible_posts_by_words(ctx, crew) -> None:
    found = await _say(ctx, crew.ana, "Rain barrels for the garden")
    await _say(ctx, crew.ana, "rain barrels, members only", audience=A.MEMBERS)
    assert await _read(ctx, timelines.search_posts, ANONYMOUS, "RAIN barrels", Page()) == [found]
    assert len(await _read(ctx, timelines.search_posts, _v(crew.dan), "rain", Page())) == 2
    assert await _read(ctx, timelines.search_posts, ANONYMOUS, "  ", Page()) == []
    assert await _read(ctx, timelines.search_posts, ANONYMOUS, "100%", Page()) == []


async def test_leaving_a_community_takes_its_posts_out_of_home(ctx, crew) -> None:
    pid = await _say(
        ctx, crew.ana, "garden only", audience=A.COMMUNITY, community_id=crew.community.id
    )
    assert pid in await _read(ctx, timelines.home, _v(crew.cy), Page())
    await communities.leave(ctx, crew.cy.actor_id, crew.community.id)
    assert pid not in await _read(ctx, timelines.home, _v(crew.cy), Page())
