"""The cache of the viewer-independent part of statuses (``api/status_cache.py``): a second read
renders nothing again, its answer is the one rendered without any cache, and every write that
changes a status (an edit, a delete, the author's profile, a poll vote, a favourite) is seen by
the very next read; counts and the viewer's flags are never cached."""

from __future__ import annotations

import sqlalchemy as sa

from server import clock
from server.api.entities import to_mastodon_account, to_mastodon_status
from server.api.present import accounts_by_id, statuses_in
from server.context import Context
from server.services import (
    account_counts,
    accounts,
    conversations,
    filters,
    hot_rows,
    posts,
    timelines,
)
from server.services.posts import Draft, PollSpec
from server.services.timelines import Page
from server.services.views import actors_in, posts_in
from server.storage import schema as t
from server.visibility import ANONYMOUS, Audience, Viewer


def _uncached(conn: sa.Connection, ctx: Context, viewer: Viewer, ids: list[int]) -> list[dict]:
    """The same answer rendered from the database alone, as before the cache."""
    views = posts_in(conn, viewer, ids, ctx.base, ctx.settings.domain)
    authors = {p.author.id: p.author for p in views}
    authors.update({p.reblog.author.id: p.reblog.author for p in views if p.reblog})
    extras = account_counts.account_extras_in(conn, set(authors))
    shown = {i: to_mastodon_account(a, extras[i], base=ctx.base) for i, a in authors.items()}
    roots = [p.thread_root_id or p.id for p in views]
    muted = (
        account_counts.muted_threads_in(conn, viewer.actor_id, roots) if viewer.actor_id else set()
    )
    polls = [q.id for p in views for q in (p, p.reblog) if q is not None and q.poll is not None]
    hidden = account_counts.hidden_totals_in(conn, polls)
    out = []
    for p in views:
        p.muted = (p.thread_root_id or p.id) in muted
        out.append(
            to_mastodon_status(p, viewer, base=ctx.base, accounts=shown, hidden_totals=hidden)
        )
    return out


async def _read(ctx: Context, viewer: Viewer, ids: list[int]) -> list[dict]:
    return await ctx.db.read(statuses_in, ctx, viewer, ids)


def _cached(ctx: Context, post_id: int) -> object:
    return hot_rows.statuses(ctx.db.engine.sync_engine).get((post_id, ctx.base))


def _viewer(who: accounts.Account) -> Viewer:
    return Viewer(actor_id=who.actor_id, local=True)


async def _post(ctx: Context, who: accounts.Account, text: str, **kw: object) -> int:
    return await posts.create_post(
        ctx, who.actor_id, Draft(source=text, audience=Audience.PUBLIC, fmt="plain", **kw)
    )


async def test_a_second_read_is_cached_and_equals_the_uncached_answer(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    first = await _post(ctx, ana, "first #tag @bo")
    poll = await _post(ctx, ana, "a poll", poll=PollSpec(("yes", "no"), 3600))
    boost = await posts.reblog(ctx, bo.actor_id, first)
    reply = await posts.create_post(
        ctx, bo.actor_id, Draft(source="a reply", in_reply_to_id=first, fmt="plain")
    )
    await posts.favourite(ctx, bo.actor_id, poll)
    ids = [reply, boost, poll, first]
    for viewer in (ANONYMOUS, _viewer(ana), _viewer(bo)):
        answer = await _read(ctx, viewer, ids)
        assert [s["id"] for s in answer] == [str(i) for i in ids]
        assert all(_cached(ctx, i) is not None for i in ids)
        again = await _read(ctx, viewer, ids)
        expected = await ctx.db.read(_uncached, ctx, viewer, ids)
        assert answer == again == expected
        assert [list(s) for s in again] == [list(s) for s in expected]  # Mastodon's key order
    bo_view = await _read(ctx, _viewer(bo), ids)
    assert bo_view[2]["favourited"] is True and bo_view[3]["reblogged"] is True
    assert (await _read(ctx, ANONYMOUS, ids))[2]["favourited"] is None


async def test_an_edit_is_seen_at_once(ctx: Context, ana: accounts.Account) -> None:
    post_id = await _post(ctx, ana, "before")
    assert "before" in (await _read(ctx, ANONYMOUS, [post_id]))[0]["content"]
    await posts.edit_post(ctx, ana.actor_id, post_id, source="after")
    [status] = await _read(ctx, ANONYMOUS, [post_id])
    assert "after" in status["content"] and status["edited_at"] is not None


async def test_an_edit_no_watch_saw_is_seen_by_its_stamp(
    ctx: Context, ana: accounts.Account
) -> None:
    """Another process on the same SQLite file has no bus: the fresh ``edited_at`` tells."""
    post_id = await _post(ctx, ana, "before")
    await _read(ctx, ANONYMOUS, [post_id])
    change = sa.text(
        "UPDATE posts SET content_html = '<p>after</p>', edited_at = :at WHERE id = :id"
    ).bindparams(sa.bindparam("at", type_=t.posts.c.edited_at.type))
    async with ctx.db.write() as conn:  # text: no watch sees it, as with another process
        await conn.execute(change, {"at": clock.now(), "id": post_id})
    assert _cached(ctx, post_id) is not None
    stale = await ctx.db.read(statuses_in, ctx, ANONYMOUS, [post_id])
    assert "after" in stale[0]["content"]


async def test_a_delete_empties_the_cache_and_leaves_the_timeline(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    post_id = await _post(ctx, ana, "soon gone")
    await _read(ctx, ANONYMOUS, [post_id])
    assert _cached(ctx, post_id) is not None
    await posts.delete_post(ctx, ana.actor_id, post_id)
    assert _cached(ctx, post_id) is None
    public = await ctx.db.read(
        lambda conn: timelines.public_ids(
            conn, ANONYMOUS, Page(limit=40), local=False, remote=False, only_media=False
        )
    )
    assert post_id not in public


async def test_a_boost_of_a_deleted_post_is_left_out(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    post_id = await _post(ctx, ana, "boosted then gone")
    boost = await posts.reblog(ctx, bo.actor_id, post_id)
    assert len(await _read(ctx, ANONYMOUS, [boost])) == 1
    await posts.delete_post(ctx, ana.actor_id, post_id)
    assert await _read(ctx, ANONYMOUS, [boost]) == []


async def test_a_profile_change_is_seen_at_once(ctx: Context, ana: accounts.Account) -> None:
    post_id = await _post(ctx, ana, "hello")
    [status] = await _read(ctx, ANONYMOUS, [post_id])
    assert status["account"]["display_name"] != "Ana Renamed"
    await accounts.update_profile(ctx.db, ana.user_id, display_name="Ana Renamed")
    [status] = await _read(ctx, ANONYMOUS, [post_id])
    assert status["account"]["display_name"] == "Ana Renamed"


async def test_a_poll_vote_is_seen_at_once(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    post_id = await _post(ctx, ana, "a poll", poll=PollSpec(("yes", "no"), 3600))
    [status] = await _read(ctx, _viewer(bo), [post_id])
    assert status["poll"]["votes_count"] == 0 and status["poll"]["voted"] is False
    await posts.vote(ctx, bo.actor_id, int(status["poll"]["id"]), [1])
    assert _cached(ctx, post_id) is not None  # a vote changes no cached part
    [status] = await _read(ctx, _viewer(bo), [post_id])
    assert status["poll"]["votes_count"] == 1 and status["poll"]["own_votes"] == [1]
    assert status["poll"]["voted"] is True
    [seen_by_ana] = await _read(ctx, _viewer(ana), [post_id])
    assert seen_by_ana["poll"]["voted"] is False and seen_by_ana["poll"]["votes_count"] == 1


async def test_a_favourite_count_change_is_seen_and_keeps_the_cache(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    post_id = await _post(ctx, ana, "like me")
    [status] = await _read(ctx, _viewer(bo), [post_id])
    assert status["favourites_count"] == 0 and status["favourited"] is False
    cached = _cached(ctx, post_id)
    await posts.favourite(ctx, bo.actor_id, post_id)
    assert _cached(ctx, post_id) is cached  # counts are read fresh, not cached
    [status] = await _read(ctx, _viewer(bo), [post_id])
    assert status["favourites_count"] == 1 and status["favourited"] is True
    [status] = await _read(ctx, _viewer(ana), [post_id])
    assert status["favourites_count"] == 1 and status["favourited"] is False
    await posts.unfavourite(ctx, bo.actor_id, post_id)
    [status] = await _read(ctx, _viewer(bo), [post_id])
    assert status["favourites_count"] == 0 and status["favourited"] is False


async def test_muted_threads_and_filters_come_with_the_flags(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    """The viewer's flags, muted threads and whether any filter is active are one statement:
    each still shows, and a viewer without active filters gets no ``filtered`` match."""
    root = await _post(ctx, ana, "a thread about tea")
    reply = await posts.create_post(
        ctx, bo.actor_id, Draft(source="more tea", in_reply_to_id=root, fmt="plain")
    )
    other = await _post(ctx, ana, "coffee")
    await posts.favourite(ctx, bo.actor_id, other)
    await conversations.set_muted(ctx, bo.actor_id, root, True)
    ids = [other, reply, root]
    answer = await ctx.db.read(statuses_in, ctx, _viewer(bo), ids, "home")
    assert [s["muted"] for s in answer] == [False, True, True]
    assert [s["favourited"] for s in answer] == [True, False, False]
    assert all(s["filtered"] == [] for s in answer)
    await filters.create(
        ctx,
        bo.actor_id,
        title="no tea",
        context=["home"],
        action="warn",
        keywords=[filters.KeywordChange(keyword="tea")],
    )
    answer = await ctx.db.read(statuses_in, ctx, _viewer(bo), ids, "home")
    assert [bool(s["filtered"]) for s in answer] == [False, True, True]
    assert answer == await ctx.db.read(statuses_in, ctx, _viewer(bo), ids, "home")
    for context, viewer in (("public", _viewer(bo)), ("home", _viewer(ana))):
        unfiltered = await ctx.db.read(statuses_in, ctx, viewer, ids, context)
        assert all(s["filtered"] == [] for s in unfiltered)  # another context, another member


async def test_api_accounts_from_the_cache_equal_the_rendered_ones(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    """``present.accounts_by_id`` (the cached Account with fresh counts) gives what rendering
    the actor with its counts and competencies gives, in the order asked, and sees a new post."""
    async with ctx.db.write() as conn:
        await conn.execute(
            t.competencies.insert(), [{"actor_id": ana.actor_id, "name": "tea", "level": "expert"}]
        )
    await _post(ctx, ana, "one")
    ids = [bo.actor_id, ana.actor_id, 10**9]

    def rendered(conn: sa.Connection) -> list[dict]:
        views = actors_in(conn, set(ids), ctx.base, ctx.settings.domain)
        extras = account_counts.account_extras_in(conn, set(views))
        return [to_mastodon_account(views[i], extras[i], base=ctx.base) for i in ids if i in views]

    for _ in range(2):  # rendered, then from the cache
        async with ctx.db.read() as conn:
            found = await accounts_by_id(conn, ctx, ids)
        assert found == await ctx.db.read(rendered)
        assert [list(a) for a in found] == [list(a) for a in await ctx.db.read(rendered)]
    assert found[1]["statuses_count"] == 1 and found[1]["fields"][-1]["name"] == "Competencies"
    await _post(ctx, ana, "two")
    async with ctx.db.read() as conn:
        assert (await accounts_by_id(conn, ctx, [ana.actor_id]))[0]["statuses_count"] == 2
