"""The reads pages and the client API ask services for: account pages, marks, people, tokens."""

import pytest

from server.errors import NotFound, ValidationError
from server.services import (
    account_lists,
    follows,
    idempotency,
    marked_posts,
    oauth,
    people,
    post_pages,
    posts,
)
from server.services.posts import Draft
from server.services.timelines import Page
from server.visibility import ANONYMOUS, Audience, Viewer
from tests.api.conftest import api_token


def _viewer(actor_id: int) -> Viewer:
    return Viewer(actor_id=actor_id, local=True, domain=None)


async def test_follower_pages_are_paged_newest_first_with_their_actors(instance):
    ana = await instance.create_member("ana")
    fans = [await instance.create_member(f"fan{i}") for i in range(3)]
    for fan in fans:
        await follows.follow(instance.ctx, fan.actor_id, ana.actor_id)
    async with instance.db.read() as conn:
        actor = await account_lists.visible_actor(conn, ana.actor_id)
        ids, actors = await account_lists.follows_of(
            conn, ANONYMOUS, actor, Page(limit=2), followers=True
        )
        rest_ids, rest = await account_lists.follows_of(
            conn, ANONYMOUS, actor, Page(max_id=ids[-1], limit=2), followers=True
        )
        assert await people.count_followers(conn, ana.actor_id) == 3
    assert actors == [fans[2].actor_id, fans[1].actor_id] and rest == [fans[0].actor_id]
    assert ids[0] > ids[1] > rest_ids[0]


async def test_acct_lookup_is_local_without_a_domain_and_ignores_case(instance):
    await instance.create_member("ana")
    async with instance.db.read() as conn:
        found = await account_lists.actor_by_acct(conn, "ANA", None)
        assert found is not None
        assert await account_lists.actor_by_acct(conn, "ana", "elsewhere.example") is None
        assert await account_lists.known_actors(conn, [found, 10**12]) == {found}
        with pytest.raises(NotFound):
            await account_lists.visible_actor(conn, 10**12)


async def test_a_person_is_found_from_what_was_typed(instance):
    ana = await instance.create_member("ana")
    async with instance.db.read() as conn:
        assert await people.actor_id_by_username(conn, "@Ana") == ana.actor_id
        with pytest.raises(ValidationError):
            await people.actor_id_by_username(conn, "nobody", field="member")


async def test_bookmarks_list_only_what_the_viewer_still_sees(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    shown = await posts.create_post(instance.ctx, bo.actor_id, Draft(source="hello"))
    hidden = await posts.create_post(
        instance.ctx, bo.actor_id, Draft(source="for followers", audience=Audience.FOLLOWERS)
    )
    await follows.follow(instance.ctx, ana.actor_id, bo.actor_id)
    for post_id in (shown, hidden):
        await marked_posts.set_mark(instance.ctx, ana.actor_id, post_id, "bookmark", True)
    await follows.unfollow(instance.ctx, ana.actor_id, bo.actor_id)
    async with instance.db.read() as conn:
        _, post_ids = await marked_posts.marked(conn, _viewer(ana.actor_id), "bookmark", Page())
        assert await marked_posts.thread_root(conn, shown) == shown
    assert post_ids == [shown]


async def test_a_post_shows_its_edits_and_a_deleted_one_is_gone(instance):
    ana = await instance.create_member("ana")
    post_id = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="first"))
    await posts.edit_post(instance.ctx, ana.actor_id, post_id, source="second")
    async with instance.db.read() as conn:
        view = await post_pages.visible_post(conn, instance.ctx, ANONYMOUS, post_id, "ana")
        edits = await post_pages.edits_of(conn, post_id, newest_first=True)
        with pytest.raises(NotFound):
            await post_pages.visible_post(conn, instance.ctx, ANONYMOUS, post_id, "bo")
    assert view.id == post_id and edits


async def test_a_token_speaks_for_its_member_until_revoked(instance):
    ana = await instance.create_member("ana")
    token = await api_token(instance, "ana")
    async with instance.db.read() as conn:
        holder = await oauth.token_holder(conn, token)
        assert await oauth.token_holder(conn, token + "x") is None
    assert holder is not None and holder.actor_id == ana.actor_id and "read" in holder.scopes


async def test_the_first_compose_submit_keeps_the_form_token(instance):
    ana = await instance.create_member("ana")
    first = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="once"))
    second = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="once"))
    kept = await idempotency.remember_form_token(instance.ctx, ana.user_id, "tok", first)
    again = await idempotency.remember_form_token(instance.ctx, ana.user_id, "tok", second)
    assert kept == first and again == first
    assert await idempotency.post_for_form_token(instance.ctx, ana.user_id, "tok") == first
