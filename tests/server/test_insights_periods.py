"""The period comparison of community insights and the administrators' organisation dashboard:
a post made now counts in "this period", and in "the previous period" when the window is moved on
by its own length; the dashboard counts communities, active members, results, purposes in force
and open decisions, and never counts a direct message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from server import clock
from server.context import Context
from server.services import communities, insights, org_insights, posts
from server.services.accounts import Account
from server.services.posts import Draft
from server.storage import schema as t
from server.visibility import Audience, Viewer

Maker = Callable[..., Awaitable[Account]]


async def _world(ctx: Context, make_member: Maker) -> tuple[Account, Account, int]:
    boss, ann = await make_member("boss"), await make_member("ann")
    community = await communities.create_community(
        ctx, boss.actor_id, handle="garden", name="Garden", purpose_text="Grow things together."
    )
    await communities.join(ctx, ann.actor_id, community.id)
    quiet = await communities.create_community(
        ctx, boss.actor_id, handle="quiet", name="Quiet", purpose_text="Rest."
    )
    async with ctx.db.write() as conn:  # its purpose is being reworked
        await conn.execute(
            t.purpose_phases.insert().values(
                community_id=quiet.id, phase="drafting", started_at=clock.now()
            )
        )
    await posts.create_post(
        ctx, ann.actor_id, Draft(source="We planted tulips", community_id=community.id)
    )
    await posts.create_post(
        ctx,
        ann.actor_id,
        Draft(source="The beds are ready", community_id=community.id, kind="result"),
    )
    await posts.create_post(ctx, boss.actor_id, Draft(source="@ann psst", audience=Audience.DIRECT))
    return boss, ann, community.id


async def test_this_period_against_the_previous_one(ctx: Context, make_member: Maker) -> None:
    boss, _, community_id = await _world(ctx, make_member)
    viewer = Viewer(actor_id=boss.actor_id, local=True)
    async with ctx.db.read() as conn:
        now = await insights.community_insights(ctx, conn, viewer, community_id, weeks=4)
        later = await insights.community_insights(
            ctx, conn, viewer, community_id, weeks=4, until=clock.now() + timedelta(weeks=4)
        )
    assert now.totals["posts"] == 2 and now.active == 1
    assert now.previous is not None and now.previous.totals["posts"] == 0
    assert now.previous.active == 0 and now.previous.until < now.weeks[0]
    assert later.totals["posts"] == 0 and later.active == 0
    assert later.previous is not None and later.previous.totals["posts"] == 2
    assert later.previous.active == 1
    assert later.previous.since == later.weeks[0] - timedelta(weeks=4)


async def test_the_organisation_dashboard(ctx: Context, make_member: Maker) -> None:
    _, _, garden_id = await _world(ctx, make_member)
    async with ctx.db.read() as conn:
        data = await org_insights.organisation_insights(conn, weeks=4)
        later = await org_insights.organisation_insights(
            conn, weeks=4, until=clock.now() + timedelta(weeks=4)
        )
    assert data.members == 2 and [c.handle for c in data.communities] == ["garden", "quiet"]
    # the boss only sent a direct message: not active
    assert (data.current.active_members, data.current.posts, data.current.results) == (1, 2, 1)
    assert (data.previous.active_members, data.previous.posts) == (0, 0)
    assert (later.previous.posts, later.previous.results, later.current.posts) == (2, 1, 0)
    garden, quiet = data.communities
    assert (garden.members, garden.active, garden.posts) == (2, 1, 2)  # the manager is a member
    assert garden.phase == "in_force" and quiet.phase == "drafting" and quiet.posts == 0
    assert data.purposes_in_force == 1 and data.decisions_open == 0

    async with ctx.db.write() as conn:
        await conn.execute(
            t.purpose_decisions.insert().values(
                community_id=garden_id, method="consent", opened_at=clock.now()
            )
        )
    async with ctx.db.read() as conn:
        data = await org_insights.organisation_insights(conn)
    assert data.decisions_open == 1 and data.communities[0].decision_open
