"""The posts service: create, reply, edit, delete, boost, favourite, vote — with their rules."""

import pytest
import sqlalchemy as sa

from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import follows, posts
from server.services.posts import Draft, PollSpec
from server.storage import schema as t
from server.visibility import ANONYMOUS, Audience, Viewer, can_see_post


async def _row(instance, post_id):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()


async def test_create_renders_mentions_and_tags_and_uses_default_audience(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    pid = await posts.create_post(
        instance.ctx, ana.actor_id, Draft(source="Hello @bo, see #Roadmap")
    )
    row = await _row(instance, pid)
    assert row.audience == "public"
    assert row.uri == f"{instance.url}/users/ana/posts/{pid}"
    assert 'class="u-url mention"' in row.content_html and "/tags/roadmap" in row.content_html
    async with instance.db.read() as conn:
        mentioned = [r[0] for r in await conn.execute(sa.select(t.post_mentions.c.actor_id))]
        notes = [
            r.type
            for r in await conn.execute(
                sa.select(t.notifications).where(t.notifications.c.actor_id == bo.actor_id)
            )
        ]
    assert mentioned == [bo.actor_id]
    assert notes == ["mention"]


async def test_validation_writes_nothing(instance):
    ana = await instance.create_member("ana")
    bad = [
        Draft(source="x" * (posts.MAX_CHARS + 1)),
        Draft(source=""),
        Draft(source="poll", poll=PollSpec(options=("only one",), expires_in=3600)),
        Draft(source="poll", poll=PollSpec(options=("a", "b"), expires_in=10)),
        Draft(source="r", kind="result"),
        Draft(source="c", audience=Audience.COMMUNITY),
        Draft(source="m", media_ids=(999,)),
        Draft(source="credit", contributor_ids=(ana.actor_id,)),
    ]
    for draft in bad:
        with pytest.raises(ValidationError):
            await posts.create_post(instance.ctx, ana.actor_id, draft)
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.posts))
        ).scalar_one() == 0


async def test_reply_never_widens_the_audience(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    await follows.follow(instance.ctx, bo.actor_id, ana.actor_id)
    parent = await posts.create_post(
        instance.ctx, ana.actor_id, Draft(source="for followers", audience=Audience.FOLLOWERS)
    )
    reply = await posts.create_post(
        instance.ctx,
        bo.actor_id,
        Draft(source="answer", audience=Audience.PUBLIC, in_reply_to_id=parent),
    )
    row = await _row(instance, reply)
    assert row.audience == "followers" and row.thread_root_id == parent
    assert (await _row(instance, parent)).replies_count == 1


async def test_cannot_reply_to_what_you_cannot_see(instance):
    ana = await instance.create_member("ana")
    cy = await instance.create_member("cy")
    secret = await posts.create_post(
        instance.ctx, ana.actor_id, Draft(source="secret", audience=Audience.DIRECT)
    )
    with pytest.raises(NotFound):
        await posts.create_post(
            instance.ctx, cy.actor_id, Draft(source="hi", in_reply_to_id=secret)
        )


async def test_edit_keeps_history_and_delete_leaves_no_content(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    pid = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="first text #one"))
    with pytest.raises(Forbidden):
        await posts.edit_post(instance.ctx, bo.actor_id, pid, source="hijack")
    await posts.edit_post(instance.ctx, ana.actor_id, pid, source="second text")
    async with instance.db.read() as conn:
        history = [
            r.source
            for r in await conn.execute(sa.select(t.post_edits).order_by(t.post_edits.c.id))
        ]
    assert history == ["first text #one", "second text"]
    former = await posts.delete_post(instance.ctx, ana.actor_id, pid)
    assert former["source"] == "second text"
    row = await _row(instance, pid)
    assert row.deleted_at is not None and row.source == "" and row.content_html == ""
    async with instance.db.read() as conn:
        for table in (t.post_edits, t.post_tags):
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(table))
            ).scalar_one() == 0
        assert not await can_see_post(conn, ANONYMOUS, pid)


async def test_boost_rules_and_counts(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    public = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="boost me"))
    members = await posts.create_post(
        instance.ctx, ana.actor_id, Draft(source="inside", audience=Audience.MEMBERS)
    )
    boost = await posts.reblog(instance.ctx, bo.actor_id, public)
    assert await posts.reblog(instance.ctx, bo.actor_id, public) == boost  # idempotent
    assert (await _row(instance, public)).reblogs_count == 1
    with pytest.raises(Forbidden):
        await posts.reblog(instance.ctx, bo.actor_id, members)
    await posts.unreblog(instance.ctx, bo.actor_id, public)
    assert (await _row(instance, public)).reblogs_count == 0


async def test_favourite_is_counted_once_and_notifies(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    pid = await posts.create_post(instance.ctx, ana.actor_id, Draft(source="like me"))
    await posts.favourite(instance.ctx, bo.actor_id, pid)
    await posts.favourite(instance.ctx, bo.actor_id, pid)
    assert (await _row(instance, pid)).favourites_count == 1
    await posts.unfavourite(instance.ctx, bo.actor_id, pid)
    assert (await _row(instance, pid)).favourites_count == 0


async def test_poll_votes(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    pid = await posts.create_post(
        instance.ctx,
        ana.actor_id,
        Draft(source="which?", poll=PollSpec(options=("a", "b", "c"), expires_in=3600)),
    )
    async with instance.db.read() as conn:
        poll_id = (
            await conn.execute(sa.select(t.polls.c.id).where(t.polls.c.post_id == pid))
        ).scalar_one()
    with pytest.raises(ValidationError):
        await posts.vote(instance.ctx, bo.actor_id, poll_id, [0, 1])  # single choice
    with pytest.raises(ValidationError):
        await posts.vote(instance.ctx, bo.actor_id, poll_id, [7])
    await posts.vote(instance.ctx, bo.actor_id, poll_id, [1])
    with pytest.raises(Conflict):
        await posts.vote(instance.ctx, bo.actor_id, poll_id, [2])


async def test_members_only_post_is_visible_to_local_members_only(instance):
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    pid = await posts.create_post(
        instance.ctx, ana.actor_id, Draft(source="inside", audience=Audience.MEMBERS)
    )
    async with instance.db.read() as conn:
        assert await can_see_post(conn, Viewer(actor_id=bo.actor_id, local=True), pid)
        assert not await can_see_post(conn, ANONYMOUS, pid)
