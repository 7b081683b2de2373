"""Posts without a server: every audience, reply narrowing, edits with history, deletion,
boosts, favourites, pins and polls — as an author and a reader would notice them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import clock
from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import communities, follows, posts
from server.services.posts import Draft, PollSpec
from server.storage import schema as t
from server.visibility import Audience, Viewer, can_see_post, reply_audience
from tests.conftest import UNIT_URL
from tests.fast import notifications_of, record_events

A = Audience


async def _notes(db, actor_id):  # type: ignore[no-untyped-def]
    return [(r.type, r.post_id) for r in await notifications_of(db, actor_id)]


async def _post(db, post_id):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()


@pytest.fixture
async def garden(ctx, member):  # type: ignore[no-untyped-def]
    """ana's community ``garden``."""
    return await communities.create_community(
        ctx, member.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )


@pytest.mark.parametrize("audience", [A.PUBLIC, A.UNLISTED, A.FOLLOWERS, A.MEMBERS, A.PARTNERS])
async def test_a_post_keeps_the_audience_it_was_written_for(ctx, member, audience) -> None:
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="hello", audience=audience))
    row = await _post(ctx.db, pid)
    assert row.audience == audience.value
    assert row.uri == f"{UNIT_URL}/users/ana/posts/{pid}"
    assert row.local and row.kind == "note" and row.content_html.strip() == "<p>hello</p>"


async def test_a_community_post_needs_its_community_and_a_member(
    ctx, member, make_member, garden
) -> None:
    with pytest.raises(ValidationError, match="community"):
        await posts.create_post(ctx, member.actor_id, Draft(source="x", audience=A.COMMUNITY))
    pid = await posts.create_post(
        ctx, member.actor_id, Draft(source="x", audience=A.COMMUNITY, community_id=garden.id)
    )
    assert (await _post(ctx.db, pid)).community_id == garden.id
    bo = await make_member("bo")
    with pytest.raises(Forbidden, match="only members"):
        await posts.create_post(
            ctx, bo.actor_id, Draft(source="x", audience=A.COMMUNITY, community_id=garden.id)
        )
    with pytest.raises(NotFound):
        await posts.create_post(ctx, member.actor_id, Draft(source="x", community_id=999))


async def test_mentioning_a_community_addresses_it(ctx, member, garden) -> None:
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="news for @garden"))
    row = await _post(ctx.db, pid)
    assert row.community_id == garden.id and row.audience == "public"


async def test_the_default_audience_is_the_authors_preference(ctx, member) -> None:
    from server.services import accounts

    await accounts.update_profile(ctx.db, member.user_id, default_audience="unlisted")
    first = await posts.create_post(ctx, member.actor_id, Draft(source="a"))
    second = await posts.create_post(ctx, member.actor_id, Draft(source="b", audience=A.DIRECT))
    assert (await _post(ctx.db, first)).audience == "unlisted"
    assert (await _post(ctx.db, second)).audience == "direct"


async def test_mentions_and_hashtags_are_linked_and_the_mentioned_notified(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(
        ctx, member.actor_id, Draft(source="Hi @bo and @nobody, #Compost #compost")
    )
    row = await _post(ctx.db, pid)
    assert f'href="{UNIT_URL}/@bo"' in row.content_html
    assert "@nobody" in row.content_html and "/@nobody" not in row.content_html
    async with ctx.db.read() as conn:
        tags = [r.tag for r in await conn.execute(sa.select(t.post_tags))]
        mentioned = [r.actor_id for r in await conn.execute(sa.select(t.post_mentions))]
    assert tags == ["compost"] and mentioned == [bo.actor_id]
    assert await _notes(ctx.db, bo.actor_id) == [("mention", pid)]
    assert await _notes(ctx.db, member.actor_id) == []


@pytest.mark.parametrize(
    "draft",
    [
        Draft(source=""),
        Draft(source="   "),
        Draft(source="x" * (posts.MAX_CHARS + 1)),
        Draft(source="x", spoiler_text="w" * 501),
        Draft(source="x", title="t" * 256),
        Draft(source="x", fmt="html"),
        Draft(source="x", kind="essay"),
        Draft(source="x", kind="result"),
        Draft(source="x", media_ids=(1, 2, 3, 4, 5)),
        Draft(source="x", media_ids=(999,)),
        Draft(source="p", poll=PollSpec(options=("one",), expires_in=3600)),
        Draft(source="p", poll=PollSpec(options=("a", "b"), expires_in=10)),
        Draft(source="p", poll=PollSpec(options=("a", "b"), expires_in=3600), media_ids=(1,)),
        Draft(source="p", poll=PollSpec(options=("a", "a" * 51), expires_in=3600)),
        Draft(source="p", poll=PollSpec(options=tuple("abcde"), expires_in=3600)),
    ],
)
async def test_an_invalid_draft_is_refused_and_nothing_is_written(ctx, member, draft) -> None:
    seen = record_events(ctx)
    with pytest.raises(ValidationError):
        await posts.create_post(ctx, member.actor_id, draft)
    async with ctx.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.posts))
        ).scalar_one() == 0
    assert seen == []


async def test_a_remote_actor_cannot_post_here(ctx, remote_actor) -> None:
    with pytest.raises(Forbidden):
        await posts.create_post(ctx, remote_actor.id, Draft(source="hi"))


async def test_creating_a_post_emits_post_created(ctx, member) -> None:
    seen = record_events(ctx)
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="x"))
    assert [(e.kind, e.data) for e in seen] == [
        ("post.created", {"post_id": pid, "author_id": member.actor_id})
    ]


# --- replies ---------------------------------------------------------------------------------

REPLY_CASES = [
    (parent, requested)
    for parent in (A.PUBLIC, A.UNLISTED, A.FOLLOWERS, A.MEMBERS, A.DIRECT)
    for requested in (A.PUBLIC, A.UNLISTED, A.FOLLOWERS, A.DIRECT)
]


@pytest.mark.parametrize(("parent", "requested"), REPLY_CASES)
async def test_a_reply_never_reaches_further_than_its_parent(
    ctx, member, make_member, parent, requested
) -> None:
    bo = await make_member("bo")
    await follows.follow(ctx, member.actor_id, bo.actor_id)
    source = "for @ana" if parent is A.DIRECT else "a post"
    parent_id = await posts.create_post(ctx, bo.actor_id, Draft(source=source, audience=parent))
    reply_id = await posts.create_post(
        ctx,
        member.actor_id,
        Draft(source="@bo a reply", audience=requested, in_reply_to_id=parent_id),
    )
    reply = await _post(ctx.db, reply_id)
    assert reply.audience == reply_audience(parent, requested).value
    order = [A.PUBLIC, A.UNLISTED, A.FOLLOWERS, A.MEMBERS, A.DIRECT]
    if parent in order and A(reply.audience) in order:
        assert order.index(A(reply.audience)) >= min(order.index(parent), order.index(requested))
    assert reply.in_reply_to_id == parent_id and reply.thread_root_id == parent_id
    assert (await _post(ctx.db, parent_id)).replies_count == 1


async def test_reply_rules_from_the_visibility_policy() -> None:
    assert reply_audience(A.UNLISTED, A.PUBLIC) is A.UNLISTED
    assert reply_audience(A.PUBLIC, A.FOLLOWERS) is A.FOLLOWERS
    assert reply_audience(A.FOLLOWERS, A.PUBLIC) is A.FOLLOWERS
    assert reply_audience(A.COMMUNITY, A.PUBLIC) is A.COMMUNITY
    assert reply_audience(A.COMMUNITY, A.DIRECT) is A.DIRECT
    assert reply_audience(A.PARTNERS, A.UNLISTED) is A.PARTNERS


async def test_a_reply_in_a_community_thread_stays_in_the_community(
    ctx, member, make_member, garden
) -> None:
    bo = await make_member("bo")
    await communities.join(ctx, bo.actor_id, garden.id)
    root = await posts.create_post(
        ctx, member.actor_id, Draft(source="x", audience=A.COMMUNITY, community_id=garden.id)
    )
    reply = await posts.create_post(
        ctx, bo.actor_id, Draft(source="y", audience=A.PUBLIC, in_reply_to_id=root)
    )
    deeper = await posts.create_post(ctx, member.actor_id, Draft(source="z", in_reply_to_id=reply))
    for pid in (reply, deeper):
        row = await _post(ctx.db, pid)
        assert (row.audience, row.community_id, row.thread_root_id) == (
            "community",
            garden.id,
            root,
        )


async def test_one_cannot_reply_to_what_one_cannot_see_or_to_a_boost(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    hidden = await posts.create_post(ctx, bo.actor_id, Draft(source="x", audience=A.FOLLOWERS))
    with pytest.raises(NotFound):
        await posts.create_post(ctx, member.actor_id, Draft(source="y", in_reply_to_id=hidden))
    with pytest.raises(NotFound):
        await posts.create_post(ctx, member.actor_id, Draft(source="y", in_reply_to_id=12345))
    public = await posts.create_post(ctx, bo.actor_id, Draft(source="x"))
    boost = await posts.reblog(ctx, member.actor_id, public)
    with pytest.raises(ValidationError, match="boosted post"):
        await posts.create_post(ctx, bo.actor_id, Draft(source="y", in_reply_to_id=boost))


# --- edits -----------------------------------------------------------------------------------


async def test_an_edit_rerenders_keeps_history_and_adds_new_mentions(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    cy = await make_member("cy")
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="first @bo #one"))
    seen = record_events(ctx)
    await posts.edit_post(ctx, member.actor_id, pid, source="second *@cy* #two", spoiler_text="cw")
    await posts.edit_post(ctx, member.actor_id, pid, source="third")
    row = await _post(ctx.db, pid)
    assert row.source == "third" and row.content_html.strip() == "<p>third</p>"
    assert row.spoiler_text == "cw" and row.sensitive and row.edited_at is not None
    async with ctx.db.read() as conn:
        history = [
            r.source
            for r in await conn.execute(
                sa.select(t.post_edits)
                .where(t.post_edits.c.post_id == pid)
                .order_by(t.post_edits.c.id)
            )
        ]
        mentioned = {r.actor_id for r in await conn.execute(sa.select(t.post_mentions))}
        tags = [r.tag for r in await conn.execute(sa.select(t.post_tags))]
    assert history == ["first @bo #one", "second *@cy* #two", "third"]
    assert mentioned == {bo.actor_id, cy.actor_id}  # nobody loses access by an edit
    assert tags == []
    assert [e.kind for e in seen] == ["post.updated", "post.updated"]


async def test_only_the_author_edits_and_boosts_are_not_edited(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="mine"))
    hidden = await posts.create_post(ctx, member.actor_id, Draft(source="x", audience=A.DIRECT))
    with pytest.raises(Forbidden):
        await posts.edit_post(ctx, bo.actor_id, pid, source="theirs")
    with pytest.raises(NotFound):
        await posts.edit_post(ctx, bo.actor_id, hidden, source="theirs")
    with pytest.raises(ValidationError):
        await posts.edit_post(ctx, member.actor_id, pid, source="x" * (posts.MAX_CHARS + 1))
    boost = await posts.reblog(ctx, bo.actor_id, pid)
    with pytest.raises(ValidationError, match="boost"):
        await posts.edit_post(ctx, bo.actor_id, boost, source="edited boost")
    assert (await _post(ctx.db, pid)).source == "mine"


# --- deletion --------------------------------------------------------------------------------


async def test_deleting_leaves_a_tombstone_and_takes_boosts_and_favourites_along(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    parent = await posts.create_post(ctx, bo.actor_id, Draft(source="parent"))
    pid = await posts.create_post(
        ctx,
        member.actor_id,
        Draft(source="bye @bo", spoiler_text="cw", in_reply_to_id=parent),
    )
    boost = await posts.reblog(ctx, bo.actor_id, pid)
    await posts.favourite(ctx, bo.actor_id, pid)
    seen = record_events(ctx)
    former = await posts.delete_post(ctx, member.actor_id, pid)
    assert former["source"] == "bye @bo" and former["in_reply_to_id"] == parent
    row = await _post(ctx.db, pid)
    assert row.deleted_at is not None and row.content_html == "" and row.source == ""
    assert (await _post(ctx.db, boost)).deleted_at is not None
    assert (await _post(ctx.db, parent)).replies_count == 0
    async with ctx.db.read() as conn:
        assert not await can_see_post(conn, Viewer(actor_id=member.actor_id, local=True), pid)
        assert (await conn.execute(sa.select(t.favourites))).first() is None
        assert (await conn.execute(sa.select(t.post_mentions))).first() is None
    assert [e.kind for e in seen] == ["post.deleted", "post.deleted"]
    with pytest.raises(NotFound):
        await posts.delete_post(ctx, member.actor_id, pid)


async def test_only_the_author_or_an_admin_deletes(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    root = await make_member("dora", admin=True)
    first = await posts.create_post(ctx, member.actor_id, Draft(source="one"))
    second = await posts.create_post(ctx, member.actor_id, Draft(source="two"))
    with pytest.raises(Forbidden):
        await posts.delete_post(ctx, bo.actor_id, first)
    await posts.delete_post(ctx, root.actor_id, first)
    await posts.delete_post(ctx, member.actor_id, second)
    assert (await _post(ctx.db, first)).deleted_at and (await _post(ctx.db, second)).deleted_at


# --- boosts and favourites -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "boostable"),
    [
        (A.PUBLIC, True),
        (A.UNLISTED, True),
        (A.FOLLOWERS, False),
        (A.MEMBERS, False),
        (A.PARTNERS, False),
        (A.DIRECT, False),
    ],
)
async def test_only_posts_anyone_may_read_are_boosted(
    ctx, member, make_member, audience, boostable
) -> None:
    bo = await make_member("bo")
    await follows.follow(ctx, member.actor_id, bo.actor_id)
    pid = await posts.create_post(ctx, bo.actor_id, Draft(source="x @ana", audience=audience))
    if not boostable:
        with pytest.raises(Forbidden, match="public and unlisted"):
            await posts.reblog(ctx, member.actor_id, pid)
        return
    boost = await posts.reblog(ctx, member.actor_id, pid)
    row = await _post(ctx.db, boost)
    assert row.reblog_of_id == pid and row.audience == audience.value  # never wider
    assert row.uri == f"{UNIT_URL}/users/ana/posts/{boost}/activity"
    assert await posts.reblog(ctx, member.actor_id, pid) == boost  # once only
    assert (await _post(ctx.db, pid)).reblogs_count == 1
    assert ("reblog", pid) in await _notes(ctx.db, bo.actor_id)


async def test_boosting_a_boost_boosts_the_original_and_undo_removes_it(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    cy = await make_member("cy")
    pid = await posts.create_post(ctx, bo.actor_id, Draft(source="x"))
    first = await posts.reblog(ctx, member.actor_id, pid)
    second = await posts.reblog(ctx, cy.actor_id, first)
    assert (await _post(ctx.db, second)).reblog_of_id == pid
    assert (await _post(ctx.db, pid)).reblogs_count == 2
    assert await posts.unreblog(ctx, cy.actor_id, pid) == pid
    assert (await _post(ctx.db, second)).deleted_at is not None
    assert (await _post(ctx.db, pid)).reblogs_count == 1
    assert await posts.unreblog(ctx, cy.actor_id, pid) == pid  # nothing left to undo


async def test_favourites_count_once_notify_and_undo(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(ctx, bo.actor_id, Draft(source="x"))
    seen = record_events(ctx)
    assert await posts.favourite(ctx, member.actor_id, pid) == pid
    await posts.favourite(ctx, member.actor_id, pid)
    assert (await _post(ctx.db, pid)).favourites_count == 1
    assert await _notes(ctx.db, bo.actor_id) == [("favourite", pid)]
    await posts.unfavourite(ctx, member.actor_id, pid)
    await posts.unfavourite(ctx, member.actor_id, pid)
    assert (await _post(ctx.db, pid)).favourites_count == 0
    assert [e.kind for e in seen] == ["favourite.created", "favourite.undone", "favourite.undone"]


async def test_a_favourite_of_a_boost_goes_to_the_original(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(ctx, bo.actor_id, Draft(source="x"))
    boost = await posts.reblog(ctx, bo.actor_id, pid)
    assert await posts.favourite(ctx, member.actor_id, boost) == pid
    assert (await _post(ctx.db, pid)).favourites_count == 1


async def test_hidden_posts_cannot_be_favourited_boosted_or_bookmarked(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(ctx, bo.actor_id, Draft(source="x", audience=A.FOLLOWERS))
    for action in (posts.favourite, posts.unfavourite, posts.reblog):
        with pytest.raises(NotFound):
            await action(ctx, member.actor_id, pid)
    with pytest.raises(NotFound):
        await posts.set_flag(ctx, member.actor_id, pid, t.bookmarks, True)
    assert (await _post(ctx.db, pid)).favourites_count == 0


async def test_pins_are_for_ones_own_open_posts_and_bookmarks_for_anything_visible(
    ctx, member, make_member
) -> None:
    bo = await make_member("bo")
    theirs = await posts.create_post(ctx, bo.actor_id, Draft(source="x"))
    mine = await posts.create_post(ctx, member.actor_id, Draft(source="y"))
    private = await posts.create_post(ctx, member.actor_id, Draft(source="z", audience=A.FOLLOWERS))
    with pytest.raises(Forbidden):
        await posts.set_flag(ctx, member.actor_id, theirs, t.pins, True)
    with pytest.raises(ValidationError):
        await posts.set_flag(ctx, member.actor_id, private, t.pins, True)
    await posts.set_flag(ctx, member.actor_id, mine, t.pins, True)
    await posts.set_flag(ctx, member.actor_id, mine, t.pins, True)
    await posts.set_flag(ctx, member.actor_id, theirs, t.bookmarks, True)
    async with ctx.db.read() as conn:
        assert [r.post_id for r in await conn.execute(sa.select(t.pins))] == [mine]
        assert [r.post_id for r in await conn.execute(sa.select(t.bookmarks))] == [theirs]
    await posts.set_flag(ctx, member.actor_id, theirs, t.bookmarks, False)
    async with ctx.db.read() as conn:
        assert (await conn.execute(sa.select(t.bookmarks))).first() is None


# --- polls -----------------------------------------------------------------------------------


async def _poll(ctx, author, *, multiple=False):  # type: ignore[no-untyped-def]
    pid = await posts.create_post(
        ctx,
        author.actor_id,
        Draft(
            source="which?",
            poll=PollSpec(options=(" kale ", "leek", "chard"), expires_in=3600, multiple=multiple),
        ),
    )
    async with ctx.db.read() as conn:
        poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == pid))).one()
    assert poll.options == ["kale", "leek", "chard"]
    return pid, poll.id


async def test_one_vote_per_person_with_valid_choices(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    pid, poll_id = await _poll(ctx, member)
    for bad in ([], [3], [-1], [0, 1], [1, 1]):
        with pytest.raises(ValidationError):
            await posts.vote(ctx, bo.actor_id, poll_id, bad)
    assert await posts.vote(ctx, bo.actor_id, poll_id, [1]) == pid
    with pytest.raises(Conflict):
        await posts.vote(ctx, bo.actor_id, poll_id, [0])
    with pytest.raises(NotFound):
        await posts.vote(ctx, bo.actor_id, 999, [0])


async def test_a_multiple_choice_poll_takes_several_and_an_ended_poll_none(
    ctx, member, make_member, monkeypatch
) -> None:
    bo = await make_member("bo")
    _pid, poll_id = await _poll(ctx, member, multiple=True)
    await posts.vote(ctx, bo.actor_id, poll_id, [0, 2])
    async with ctx.db.read() as conn:
        assert sorted(r.choice for r in await conn.execute(sa.select(t.poll_votes))) == [0, 2]
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(ValidationError, match="ended"):
        await posts.vote(ctx, member.actor_id, poll_id, [1])


async def test_a_poll_on_a_hidden_post_is_not_found(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    pid = await posts.create_post(
        ctx,
        member.actor_id,
        Draft(
            source="secret", audience=A.DIRECT, poll=PollSpec(options=("a", "b"), expires_in=600)
        ),
    )
    async with ctx.db.read() as conn:
        poll_id = (
            await conn.execute(sa.select(t.polls.c.id).where(t.polls.c.post_id == pid))
        ).scalar_one()
    with pytest.raises(NotFound):
        await posts.vote(ctx, bo.actor_id, poll_id, [0])


async def test_the_text_is_rendered_before_the_writer_is_taken(
    ctx, make_member, monkeypatch
) -> None:
    """Markdown to HTML (and the mentions' lookup) run outside the write lock; the insert in it."""
    ana = await make_member("ana")
    await make_member("bo")
    seen: list[tuple[str, bool]] = []
    render, resolve = posts.text.render, posts.resolve_mentions

    def spy_render(*args, **kw):  # type: ignore[no-untyped-def]
        seen.append(("render", ctx.db._write_lock.locked()))
        return render(*args, **kw)

    async def spy_resolve(*args, **kw):  # type: ignore[no-untyped-def]
        seen.append(("mentions", ctx.db._write_lock.locked()))
        return await resolve(*args, **kw)

    monkeypatch.setattr(posts.text, "render", spy_render)
    monkeypatch.setattr(posts, "resolve_mentions", spy_resolve)
    post_id = await posts.create_post(ctx, ana.actor_id, Draft("hi **@bo**"))
    assert seen == [("mentions", False), ("render", False)]
    async with ctx.db.read() as conn:
        html = await conn.scalar(sa.select(t.posts.c.content_html).where(t.posts.c.id == post_id))
    assert "<strong>" in html
