"""The idea box without a server: submitting, supporting, merging duplicates, declining, and
who sees which idea."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import ideas
from server.storage import schema as t
from server.visibility import ANONYMOUS


async def _idea(ctx, crew, person=None, **kw):  # type: ignore[no-untyped-def]
    values = {"title": "A seed library", **kw}
    author = person or crew.bo
    return await ideas.submit_idea(ctx, author.actor_id, crew.community.id, **values)


async def _view(ctx, crew, idea_id, viewer=ANONYMOUS):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return await ideas.get_idea(conn, viewer, idea_id)


async def test_an_idea_is_also_a_post_and_the_managers_hear_of_it(ctx, crew) -> None:
    idea_id = await _idea(ctx, crew, description="Share **seeds**")
    idea = await _view(ctx, crew, idea_id)
    assert (idea.title, idea.status, idea.supports, idea.author_local) == (
        "A seed library",
        "open",
        0,
        True,
    )
    assert "<strong>seeds</strong>" in idea.text_html
    async with ctx.db.read() as conn:
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == idea.post_id))).one()
        notes = [
            r.type
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == crew.ana.actor_id
                )
            )
        ]
    assert post.community_id == crew.community.id and post.extra == {"idea": True}
    assert post.source.startswith("💡 A seed library")
    assert notes == ["koers.idea"]


@pytest.mark.parametrize(
    "values",
    [{"title": " "}, {"title": "t" * 201}, {"description": "d" * 4001}, {"audience": "members"}],
)
async def test_invalid_ideas_are_refused(ctx, crew, values) -> None:
    with pytest.raises(ValidationError):
        await _idea(ctx, crew, **values)


async def test_outsiders_cannot_submit(ctx, crew) -> None:
    with pytest.raises(Forbidden):
        await _idea(ctx, crew, crew.dan)


async def test_supports_count_once_and_order_the_box(ctx, crew) -> None:
    first = await _idea(ctx, crew, title="First")
    second = await _idea(ctx, crew, title="Second")
    await ideas.support(ctx, crew.cy.actor_id, second)
    await ideas.support(ctx, crew.cy.actor_id, second)
    await ideas.support(ctx, crew.ana.actor_id, second)
    assert (await _view(ctx, crew, second)).supports == 2
    assert (await _view(ctx, crew, second, crew.viewer(crew.cy))).supported_by_me
    async with ctx.db.read() as conn:
        box = await ideas.list_ideas(conn, ANONYMOUS, crew.community.id)
    assert [i.id for i in box] == [second, first]
    await ideas.unsupport(ctx, crew.cy.actor_id, second)
    assert (await _view(ctx, crew, second)).supports == 1


async def test_merging_moves_supports_and_closes_the_duplicate(ctx, crew) -> None:
    kept = await _idea(ctx, crew, title="Seed library")
    dup = await _idea(ctx, crew, crew.cy, title="Library of seeds")
    await ideas.support(ctx, crew.dan.actor_id, dup)
    with pytest.raises(Forbidden):
        await ideas.merge(ctx, crew.bo.actor_id, dup, kept)
    with pytest.raises(ValidationError):
        await ideas.merge(ctx, crew.ana.actor_id, dup, dup)
    await ideas.merge(ctx, crew.ana.actor_id, dup, kept)
    merged = await _view(ctx, crew, dup)
    assert (merged.status, merged.merged_into_id, merged.supports) == ("merged", kept, 0)
    assert (await _view(ctx, crew, kept)).supports == 2  # dan's support and cy, its author
    with pytest.raises(Conflict):
        await ideas.support(ctx, crew.bo.actor_id, dup)
    with pytest.raises(Conflict):
        await ideas.decline(ctx, crew.ana.actor_id, dup)


async def test_a_declined_idea_takes_no_more_support(ctx, crew) -> None:
    idea_id = await _idea(ctx, crew)
    await ideas.decline(ctx, crew.ana.actor_id, idea_id)
    assert (await _view(ctx, crew, idea_id)).status == "declined"
    with pytest.raises(Conflict):
        await ideas.support(ctx, crew.cy.actor_id, idea_id)
    async with ctx.db.read() as conn:
        assert await ideas.list_ideas(conn, ANONYMOUS, crew.community.id, status="open") == []
        with pytest.raises(ValidationError):
            await ideas.list_ideas(conn, ANONYMOUS, crew.community.id, status="lost")


async def test_a_community_idea_stays_in_the_community(ctx, crew) -> None:
    idea_id = await _idea(ctx, crew, audience="community")
    for viewer in (ANONYMOUS, crew.viewer(crew.dan)):
        with pytest.raises(NotFound):
            await _view(ctx, crew, idea_id, viewer)
        async with ctx.db.read() as conn:
            assert await ideas.list_ideas(conn, viewer, crew.community.id) == []
    assert (await _view(ctx, crew, idea_id, crew.viewer(crew.cy))).title == "A seed library"
    with pytest.raises(NotFound):
        await ideas.support(ctx, crew.dan.actor_id, idea_id)


async def test_a_call_for_ideas_is_a_managers_public_post(ctx, crew) -> None:
    with pytest.raises(Forbidden):
        await ideas.call_for_ideas(ctx, crew.bo.actor_id, crew.community.id, "Ideas?")
    pid = await ideas.call_for_ideas(ctx, crew.ana.actor_id, crew.community.id, "Ideas please")
    async with ctx.db.read() as conn:
        assert await ideas.is_call_for_ideas(conn, pid)
        assert not await ideas.is_call_for_ideas(conn, None)


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<p>@garden 💡 Rain barrels</p>", "Rain barrels"),
        ("<p>@garden@far.example @ana first line</p><p>second</p>", "first line"),
        ("<p>@garden</p>", "An idea"),
        ("<p>" + "x" * 300 + "</p>", "x" * 199 + "…"),
    ],
)
def test_a_title_from_a_posted_idea(html: str, title: str) -> None:
    assert ideas.title_from(html) == title
