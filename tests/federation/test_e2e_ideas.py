"""Ideas across instances: an outsider on another instance submits an idea by mentioning the
community, the managers put it on the roadmap, and the author hears of it in their own timeline;
a remote Like of a local idea counts as a support."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.services import communities, idea_outcomes, ideas, posts, timelines
from server.services.timelines import Page
from server.storage import schema as t
from server.visibility import Viewer
from tests.federation.e2e_helpers import follow_remote, post_by_uri, pump, remote_id

pytestmark = pytest.mark.slow


async def test_outsider_idea_becomes_roadmap_item_and_author_hears_of_it(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await follow_remote(b, a, bob.actor_id, "/users/alice")  # bob follows alice, not the garden
    await remote_id(b, a, "/communities/garden")  # B knows the Group, so bob can mention it
    await pump(a, b)

    idea_post = await posts.create_post(
        b.ctx,
        bob.actor_id,
        posts.Draft(source=f"@garden@{a.settings.domain} how about a herb spiral by the gate?"),
    )
    await pump(a, b)
    stored = await post_by_uri(a, f"{b.url}/users/bob/posts/{idea_post}")
    assert stored is not None
    async with a.db.read() as conn:
        box = await ideas.list_ideas(conn, Viewer(), garden.id)
    assert [(i.title, i.author_handle, i.post_id) for i in box] == [
        ("how about a herb spiral by the gate?", f"bob@{b.settings.domain}", stored.id)
    ]
    page = await (await a.client.get("/c/garden/ideas")).text()
    assert "herb spiral" in page

    item_id = await idea_outcomes.promote_to_roadmap(a.ctx, alice.actor_id, box[0].id)
    await pump(a, b)
    async with a.db.read() as conn:
        item = (
            await conn.execute(sa.select(t.roadmap_items).where(t.roadmap_items.c.id == item_id))
        ).one()
        promoted = await ideas.get_idea(conn, Viewer(), box[0].id)
    assert item.title == "how about a herb spiral by the gate?" and promoted.status == "promoted"

    # On B: alice's reply mentions bob, threads under his post, and is in his home timeline.
    async with b.db.read() as conn:
        reply = (
            await conn.execute(
                sa.select(t.posts).where(
                    t.posts.c.in_reply_to_id == idea_post, t.posts.c.local.is_(False)
                )
            )
        ).one()
        home = await timelines.home(conn, Viewer(actor_id=bob.actor_id, local=True), Page(limit=20))
        mentioned = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == bob.actor_id,
                        t.notifications.c.post_id == reply.id,
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (
        "now on the roadmap" in reply.content_html
        and f"/c/garden/roadmap/{item_id}" in reply.content_html
    )
    assert reply.id in home
    assert "mention" in mentioned


async def test_remote_like_of_a_local_idea_counts_as_support(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)
    idea_id = await ideas.submit_idea(a.ctx, alice.actor_id, garden.id, title="Compost corner")
    await pump(a, b)
    async with a.db.read() as conn:
        idea = await ideas.get_idea(conn, Viewer(), idea_id)
        post_uri = (
            await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.id == idea.post_id))
        ).scalar_one()
    copy = await post_by_uri(b, post_uri)
    assert copy is not None and copy.extra.get("idea") is True  # koers:idea travelled with the post
    await posts.favourite(b.ctx, bob.actor_id, copy.id)
    await pump(a, b)
    async with a.db.read() as conn:
        assert (await ideas.get_idea(conn, Viewer(), idea_id)).supports == 1


async def test_reply_to_a_call_for_ideas_is_an_idea_and_other_replies_are_not(
    make_instance,
) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)
    call = await ideas.call_for_ideas(
        a.ctx, alice.actor_id, garden.id, "What should we plant next spring?"
    )
    chat = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="The gate is fixed.", community_id=garden.id, audience=posts.Audience.PUBLIC
        ),
    )
    await pump(a, b)
    call_on_b = await post_by_uri(b, f"{a.url}/users/alice/posts/{call}")
    chat_on_b = await post_by_uri(b, f"{a.url}/users/alice/posts/{chat}")
    await posts.create_post(
        b.ctx, bob.actor_id, posts.Draft(source="Pumpkins!", in_reply_to_id=call_on_b.id)
    )
    await posts.create_post(
        b.ctx, bob.actor_id, posts.Draft(source="Great news", in_reply_to_id=chat_on_b.id)
    )
    await pump(a, b)
    async with a.db.read() as conn:
        box = await ideas.list_ideas(conn, Viewer(), garden.id)
    assert [i.title for i in box] == ["Pumpkins!"]
