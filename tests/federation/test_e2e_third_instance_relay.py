"""A community-only post written on a THIRD instance reaches the community's members elsewhere.

Community on A, members on B and C: the post by the member on C travels C → A (the Group) → B.
B fetches it from C signed as its own member; C asks A's Group whether that member belongs.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.services import communities, posts
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from server.visibility import can_see_post
from tests.federation.e2e_helpers import follow_remote, post_by_uri, pump

pytestmark = pytest.mark.slow


async def _community_on(inst, group_id: int) -> int:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group_id)
            )
        ).scalar_one()


async def _can_see(inst, actor_id: int, post_id: int) -> bool:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return await can_see_post(conn, await viewer_for_actor(conn, actor_id), post_id)


async def _garden_on_three(make_instance):  # type: ignore[no-untyped-def]
    """Community "garden" on A; member bob and non-member bea on B; member carol on C."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    c = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    bea = await b.create_member("bea")
    carol = await c.create_member("carol")
    await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    await follow_remote(b, a, bob.actor_id, "/communities/garden")
    group_on_c = await follow_remote(c, a, carol.actor_id, "/communities/garden")
    await pump(a, b, c)
    return a, b, c, bob, bea, carol, group_on_c


async def test_community_post_from_third_instance_reaches_members_only(make_instance) -> None:
    a, b, c, bob, bea, carol, group_on_c = await _garden_on_three(make_instance)

    pid = await posts.create_post(
        c.ctx,
        carol.actor_id,
        posts.Draft(
            source="Members only: the shed key is under the pot",
            audience=posts.Audience("community"),
            community_id=await _community_on(c, group_on_c),
        ),
    )
    await pump(a, b, c)
    uri = f"{c.url}/users/carol/posts/{pid}"
    on_a = await post_by_uri(a, uri)
    assert on_a is not None and on_a.audience == "community"
    on_b = await post_by_uri(b, uri)
    assert on_b is not None, "the relay through A's Group was not accepted on B"
    assert on_b.audience == "community" and "shed key" in on_b.content_html
    assert await _can_see(b, bob.actor_id, on_b.id)
    assert not await _can_see(b, bea.actor_id, on_b.id)
    async with b.db.read() as conn:
        failed = (
            await conn.execute(
                sa.select(t.activities.c.last_error).where(
                    t.activities.c.direction == "in", t.activities.c.state != "done"
                )
            )
        ).all()
    assert not [r for r in failed if r[0] and "fetch_failed" in r[0]]


async def test_origin_hides_community_post_from_non_member_of_remote_group(make_instance) -> None:
    """C serves the post to a member of A's Group on B, and not to B's non-member or B's instance."""
    from federation.actors import fetch_signed
    from federation.errors import FetchError

    a, b, c, bob, bea, carol, group_on_c = await _garden_on_three(make_instance)
    pid = await posts.create_post(
        c.ctx,
        carol.actor_id,
        posts.Draft(
            source="For members",
            audience=posts.Audience("community"),
            community_id=await _community_on(c, group_on_c),
        ),
    )
    url = f"{c.url}/users/carol/posts/{pid}"
    doc = await fetch_signed(b.app, url, as_actor=bob.actor_id)
    assert doc["id"] == url
    for signer in (bea.actor_id, None):
        with pytest.raises(FetchError):
            await fetch_signed(b.app, url, as_actor=signer, refresh=True)
