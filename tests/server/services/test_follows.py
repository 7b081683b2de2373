"""Following people: open and locked accounts, requests, relationships, blocks and mutes."""

import pytest

from server.errors import Forbidden, NotFound, ValidationError
from server.services import follows, posts, timelines
from server.services.posts import Draft
from server.visibility import Viewer


async def test_open_account_is_followed_at_once_locked_one_needs_approval(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    cy = await instance.create_member("cy")
    from server.services import accounts

    await accounts.update_profile(instance.db, cy.user_id, locked=True)
    assert await follows.follow(instance.ctx, ana.actor_id, bo.actor_id) == "accepted"
    assert await follows.follow(instance.ctx, ana.actor_id, cy.actor_id) == "pending"
    async with instance.db.read() as conn:
        rel = await follows.relationship(conn, ana.actor_id, cy.actor_id)
    assert rel["requested"] and not rel["following"]
    with pytest.raises(Forbidden):
        await follows.accept_follow(instance.ctx, bo.actor_id, ana.actor_id, cy.actor_id)
    await follows.accept_follow(instance.ctx, cy.actor_id, ana.actor_id, cy.actor_id)
    async with instance.db.read() as conn:
        rel = await follows.relationship(conn, ana.actor_id, cy.actor_id)
    assert rel["following"]
    with pytest.raises(NotFound):
        await follows.accept_follow(instance.ctx, cy.actor_id, ana.actor_id, cy.actor_id)


async def test_cannot_follow_self(instance):
    ana = await instance.create_member("ana")
    with pytest.raises(ValidationError):
        await follows.follow(instance.ctx, ana.actor_id, ana.actor_id)


async def test_block_ends_follows_and_hides_posts(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    await follows.follow(instance.ctx, bo.actor_id, ana.actor_id)
    pid = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="public words"))
    await follows.block(instance.ctx, ana.actor_id, bo.actor_id)
    viewer = Viewer(actor_id=bo.actor_id, local=True)
    async with instance.db.read() as conn:
        rel = await follows.relationship(conn, bo.actor_id, ana.actor_id)
        assert not rel["following"] and rel["blocked_by"]
        assert pid not in await timelines.public(conn, viewer, timelines.Page())
    with pytest.raises(Forbidden):
        await follows.follow(instance.ctx, bo.actor_id, ana.actor_id)
    await follows.unblock(instance.ctx, ana.actor_id, bo.actor_id)
    assert await follows.follow(instance.ctx, bo.actor_id, ana.actor_id) == "accepted"


async def test_home_feed_has_followed_people_and_muting_hides_them(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    cy = await instance.create_member("cy")
    await follows.follow(instance.ctx, ana.actor_id, bo.actor_id)
    from_bo = await posts.create_post(instance.ctx, bo.actor_id, Draft(source="from bo"))
    from_cy = await posts.create_post(instance.ctx, cy.actor_id, Draft(source="from cy"))
    viewer = Viewer(actor_id=ana.actor_id, local=True)
    async with instance.db.read() as conn:
        feed = await timelines.home(conn, viewer, timelines.Page())
    assert from_bo in feed and from_cy not in feed
    await follows.mute(instance.ctx, ana.actor_id, bo.actor_id)
    async with instance.db.read() as conn:
        assert from_bo not in await timelines.home(conn, viewer, timelines.Page())


async def test_paging_by_id(instance):
    ana = await instance.create_member("ana")
    ids = [
        await posts.create_post(instance.ctx, ana.actor_id, Draft(source=f"post {i}"))
        for i in range(5)
    ]
    viewer = Viewer(actor_id=ana.actor_id, local=True)
    async with instance.db.read() as conn:
        first = await timelines.home(conn, viewer, timelines.Page(limit=2))
        second = await timelines.home(conn, viewer, timelines.Page(limit=2, max_id=first[-1]))
        newer = await timelines.home(conn, viewer, timelines.Page(limit=2, min_id=ids[0]))
    assert first == [ids[4], ids[3]] and second == [ids[2], ids[1]]
    assert newer == [ids[2], ids[1]]
