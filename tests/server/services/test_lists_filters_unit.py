"""A member's own tools without a server: lists of people, community lists kept in step, keyword
filters that warn or hide, and idempotent posting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server import clock
from server.errors import NotFound, ValidationError
from server.services import communities, filters, follows, idempotency, lists, posts
from server.services.filters import KeywordChange
from server.services.posts import Draft


async def _lists(ctx, person):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return [(r.title, r.community_id) for r in await lists.all_lists(conn, person.actor_id)]


async def _members(ctx, person, list_id):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        row = await lists.own_list(conn, person.actor_id, list_id)
        return sorted(r[1] for r in await conn.execute(lists.member_query(row)))


async def test_a_list_holds_people_one_follows(ctx, crew) -> None:
    ana = crew.ana
    list_id = await lists.create_list(ctx, ana.actor_id, "  Neighbours ")
    await follows.follow(ctx, ana.actor_id, crew.bo.actor_id)
    with pytest.raises(ValidationError, match="follow"):
        await lists.add_accounts(ctx, ana.actor_id, list_id, [crew.bo.actor_id, crew.cy.actor_id])
    await lists.add_accounts(ctx, ana.actor_id, list_id, [crew.bo.actor_id, crew.bo.actor_id])
    await lists.add_accounts(ctx, ana.actor_id, list_id, [crew.bo.actor_id])
    assert await _members(ctx, ana, list_id) == [crew.bo.actor_id]
    await lists.remove_accounts(ctx, ana.actor_id, list_id, [crew.bo.actor_id])
    assert await _members(ctx, ana, list_id) == []
    await lists.update_list(
        ctx, ana.actor_id, list_id, title="Street", replies_policy=None, exclusive=True
    )
    assert ("Street", None) in await _lists(ctx, ana)
    await lists.delete_list(ctx, ana.actor_id, list_id)
    assert ("Street", None) not in await _lists(ctx, ana)


async def test_lists_are_private_to_their_owner(ctx, crew) -> None:
    list_id = await lists.create_list(ctx, crew.ana.actor_id, "Mine")
    async with ctx.db.read() as conn:
        with pytest.raises(NotFound):
            await lists.own_list(conn, crew.bo.actor_id, list_id)
    with pytest.raises(NotFound):
        await lists.delete_list(ctx, crew.bo.actor_id, list_id)
    for bad in ({"title": " "}, {"title": "ok", "replies_policy": "everyone"}):
        with pytest.raises(ValidationError):
            await lists.create_list(ctx, crew.ana.actor_id, **bad)


async def test_joined_communities_appear_as_lists_that_cannot_be_edited(ctx, crew) -> None:
    await lists.sync_community_lists(ctx, crew.bo.actor_id)
    assert await _lists(ctx, crew.bo) == [("Garden", crew.community.id)]
    async with ctx.db.read() as conn:
        row = (await lists.all_lists(conn, crew.bo.actor_id))[0]
    assert await _members(ctx, crew.bo, row.id) == sorted(
        [crew.ana.actor_id, crew.bo.actor_id, crew.cy.actor_id]
    )
    with pytest.raises(ValidationError, match="mirrors a community"):
        await lists.delete_list(ctx, crew.bo.actor_id, row.id)
    await communities.leave(ctx, crew.bo.actor_id, crew.community.id)
    await lists.sync_community_lists(ctx, crew.bo.actor_id)
    assert await _lists(ctx, crew.bo) == []


async def _filter(ctx, person, *words, action="hide", **kw):  # type: ignore[no-untyped-def]
    return await filters.create(
        ctx,
        person.actor_id,
        title="No spoilers",
        context=kw.pop("context", ["home", "public"]),
        action=action,
        keywords=[KeywordChange(keyword=w, whole_word=kw.get("whole_word")) for w in words],
        expires_in=kw.get("expires_in"),
    )


async def test_a_hide_filter_hides_matching_posts_in_its_contexts(ctx, crew) -> None:
    await _filter(ctx, crew.bo, "finale")
    hit = await posts.create_post(ctx, crew.ana.actor_id, Draft(source="The FINALE was great"))
    cw = await posts.create_post(
        ctx, crew.ana.actor_id, Draft(source="no words", spoiler_text="finale inside")
    )
    miss = await posts.create_post(ctx, crew.ana.actor_id, Draft(source="finales are long"))
    async with ctx.db.read() as conn:
        assert await filters.hides(conn, crew.bo.actor_id, hit, "home")
        assert await filters.hides(conn, crew.bo.actor_id, cw, "public")
        assert not await filters.hides(conn, crew.bo.actor_id, miss, "home")  # whole word
        assert not await filters.hides(conn, crew.bo.actor_id, hit, "notifications")
        assert not await filters.hides(conn, crew.cy.actor_id, hit, "home")


async def test_a_warn_filter_matches_but_does_not_hide_and_expires(ctx, crew, monkeypatch) -> None:
    await _filter(ctx, crew.bo, "fin", action="warn", whole_word=False, expires_in=60)
    pid = await posts.create_post(ctx, crew.ana.actor_id, Draft(source="finale"))
    async with ctx.db.read() as conn:
        found = filters.matches(await filters.active(conn, crew.bo.actor_id, "home"), pid, "finale")
        assert [m.keywords for m in found] == [["fin"]]
        assert not await filters.hides(conn, crew.bo.actor_id, pid, "home")
    later = clock.now() + timedelta(minutes=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    async with ctx.db.read() as conn:
        assert await filters.active(conn, crew.bo.actor_id, "home") == []


async def test_a_filter_can_name_posts_and_is_validated(ctx, crew) -> None:
    fid = await _filter(ctx, crew.bo)
    pid = await posts.create_post(ctx, crew.ana.actor_id, Draft(source="anything"))
    await filters.add_status(ctx, crew.bo.actor_id, fid, pid)
    async with ctx.db.read() as conn:
        assert await filters.hides(conn, crew.bo.actor_id, pid, "home")
    for bad in (
        {"title": " ", "context": ["home"]},
        {"title": "x", "context": []},
        {"title": "x", "context": ["everywhere"]},
        {"title": "x", "context": ["home"], "action": "explode"},
        {"title": "x", "context": ["home"], "expires_in": 0},
    ):
        with pytest.raises(ValidationError):
            await filters.create(ctx, crew.bo.actor_id, **bad)
    await filters.delete(ctx, crew.bo.actor_id, fid)
    async with ctx.db.read() as conn:
        assert await filters.filters_of(conn, crew.bo.actor_id) == []


async def test_an_idempotency_key_returns_the_first_post_until_it_is_deleted(ctx, member) -> None:
    assert await idempotency.post_for_key(ctx, member.user_id, "k1") is None
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="once"))
    await idempotency.remember(ctx, member.user_id, "k1", pid)
    assert await idempotency.post_for_key(ctx, member.user_id, "k1") == pid
    assert await idempotency.post_for_key(ctx, member.user_id + 1, "k1") is None
    await posts.delete_post(ctx, member.actor_id, pid)
    assert await idempotency.post_for_key(ctx, member.user_id, "k1") is None
