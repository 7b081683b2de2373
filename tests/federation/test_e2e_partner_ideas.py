"""A member of a community who lives on a partner instance adds an idea from their own server: it
travels as a post marked koers:idea and lands in the community's idea box on its home instance."""

from __future__ import annotations

import pytest

from server.services import communities, ideas
from server.visibility import Viewer
from tests.federation.e2e_helpers import follow_remote, pump

pytestmark = pytest.mark.slow


async def _community_on(inst, group_id: int) -> int:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from server.storage import schema as t

    async with inst.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group_id)
            )
        ).scalar_one()


async def test_partner_member_idea_reaches_the_idea_box(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")  # bob joins from B
    await pump(a, b)
    garden_on_b = await _community_on(b, group_on_b)
    await ideas.submit_idea(
        b.ctx, bob.actor_id, garden_on_b, title="Seed swap table", audience="community"
    )
    await pump(a, b)
    async with a.db.read() as conn:
        box = await ideas.list_ideas(conn, Viewer(actor_id=alice.actor_id, local=True), garden.id)
        hidden = await ideas.list_ideas(conn, Viewer(), garden.id)
    assert [(i.author_handle, i.audience) for i in box] == [
        (f"bob@{b.settings.domain}", "community")
    ]
    assert box[0].title == "Seed swap table"
    assert hidden == []  # a members-only idea stays hidden from visitors
