"""Insights on a generated community of 300 members with planted answers (tests/server/insights_data.py):
the service names the informal leaders and every planted profile, leaves out what must not count
(direct replies, interactions before the window), keeps outsiders and opted-out members anonymous,
and the pages and API let only managers see the whole picture."""

from __future__ import annotations

import time

import pytest

from server.services import communities, insights
from server.visibility import Viewer
from tests.api.conftest import api_token
from tests.conftest import Instance, post_form
from tests.server import insights_data as gen


@pytest.fixture
async def world(instance: Instance) -> gen.World:
    boss = await instance.create_member("boss")
    started = time.perf_counter()
    w = await gen.build(instance.ctx, "boss", boss.actor_id)
    assert time.perf_counter() - started < 30
    bob = await instance.create_member("bob")
    await communities.join(instance.ctx, bob.actor_id, w.community_id)
    w.ids["bob"] = bob.actor_id
    return w


async def _insights(instance: Instance, world: gen.World, **kw: object) -> insights.Insights:
    async with instance.db.read() as conn:
        return await insights.community_insights(
            instance.ctx,
            conn,
            Viewer(actor_id=world.ids["boss"], local=True),
            world.community_id,
            **kw,  # type: ignore[arg-type]
        )


def _profiles(data: insights.Insights) -> dict[str, str]:
    return {p.actor.username: p.stats.profile for p in data.people}


async def test_names_the_planted_leaders_and_profiles(instance: Instance, world: gen.World) -> None:
    assert world.interactions > 2000
    started = time.perf_counter()
    data = await _insights(instance, world)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed

    assert len(data.people) == 301  # 300 generated members and bob; outsiders are not named
    leaders = {p.actor.username: p for p in data.leaders}
    assert set(leaders) == {*gen.CATALYSTS_INFORMAL, gen.CATALYST_WITH_ROLE, "boss"}
    assert {u for u, p in leaders.items() if p.informal} == set(gen.CATALYSTS_INFORMAL)
    assert leaders["boss"].is_manager and leaders[gen.CATALYST_WITH_ROLE].holds_role
    # the most central people are the planted catalysts
    assert {p.actor.username for p in data.people[:5]} == set(leaders)

    profiles = _profiles(data)
    for name in [*gen.CATALYSTS_INFORMAL, gen.CATALYST_WITH_ROLE, "boss"]:
        assert profiles[name] == "catalyst", name
    for names, expected in [
        (gen.BROADCASTERS, "broadcaster"),
        (gen.RESPONDERS, "responder"),
        (gen.ENGAGERS, "engager"),
        (gen.OBSERVERS, "observer"),
    ]:
        assert {profiles[n] for n in names} == {expected}, (
            expected,
            {n: profiles[n] for n in names},
        )
    quiet = {p.actor.username for p in data.quiet}
    assert set(gen.OBSERVERS) <= quiet and not quiet & {
        *gen.BROADCASTERS,
        *gen.ENGAGERS,
        *gen.RESPONDERS,
    }

    by_name = {p.actor.username: p.stats for p in data.people}
    catalyst = by_name["m010"]
    assert (
        catalyst.posts == 4 and catalyst.received["reply"] == 41 and catalyst.received["like"] == 40
    )
    assert catalyst.received["boost"] == 12 and catalyst.responders >= 30
    # direct replies and replies before the window do not count
    assert by_name["m020"].received["reply"] == 0 and by_name["m021"].received["reply"] == 0
    assert by_name["m250"].activity == 0
    # remote members are named; outsiders only counted
    assert {"m100", "m101"} <= set(by_name) and not set(gen.OUTSIDERS) & set(by_name)
    assert data.outsiders == 5 and data.outsider_interactions == 5
    assert sum(data.profile_counts.values()) == len(data.people)
    assert data.totals["like"] == 1200 + 200 + 50 + 10 and data.totals["boost"] == 60
    assert sum(data.weekly_activity["reply"]) == data.totals["reply"] == 150 + 200 + 5 + 30 + 15
    assert sum(sum(v) for v in data.weekly_profiles.values()) > 0


async def test_window_is_whole_weeks_and_bounded(instance: Instance, world: gen.World) -> None:
    data = await _insights(instance, world, weeks=2)
    assert len(data.weeks) == 2 and data.weeks[0].weekday() == 0
    assert data.totals["like"] < 1460
    with pytest.raises(insights.ValidationError):
        await _insights(instance, world, weeks=53)


async def test_opted_out_member_is_only_counted(instance: Instance, world: gen.World) -> None:
    await insights.set_opt_out(instance.ctx, world.ids["m010"], True)
    data = await _insights(instance, world)
    names = {p.actor.username for p in data.people}
    assert "m010" not in names and data.opted_out == 1
    assert {p.actor.username for p in data.leaders} == {
        "m011",
        "m012",
        gen.CATALYST_WITH_ROLE,
        "boss",
    }
    assert data.totals["reply"] == 400  # still in the totals
    async with instance.db.read() as conn:
        mine = await insights.my_insights(
            instance.ctx, conn, Viewer(actor_id=world.ids["m010"], local=True), world.community_id
        )
    assert mine.opted_out and mine.person.stats.profile == "catalyst" and sum(mine.weekly) == 4
    await insights.set_opt_out(instance.ctx, world.ids["m010"], False)
    assert "m010" in {p.actor.username for p in (await _insights(instance, world)).people}


async def test_pages_managers_see_all_members_see_themselves(
    instance: Instance, world: gen.World
) -> None:
    boss = await instance.login("boss")
    resp = await boss.get(f"/c/{gen.HANDLE}/insights")
    html = await resp.text()
    assert resp.status == 200, html
    for chart in ("chart-profiles", "chart-weekly", "chart-profile-trend", "chart-ranking"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart}"' in html
    assert '<title id="chart-profiles-title">Members by profile</title>' in html
    informal = html.split('id="leaders"')[1].split("Leading and holding")[0]
    assert all(f"@{u}" in informal for u in gen.CATALYSTS_INFORMAL) and "@boss" not in informal
    assert "out0" not in html and "generated" not in html  # no outsiders, no post content
    manage = await (await boss.get(f"/c/{gen.HANDLE}/manage")).text()
    assert f'href="/c/{gen.HANDLE}/insights"' in manage
    assert (await boss.get(f"/c/{gen.HANDLE}/insights?weeks=99")).status == 422

    bob = await instance.login("bob")
    assert (await bob.get(f"/c/{gen.HANDLE}/insights")).status == 403
    me = await bob.get(f"/c/{gen.HANDLE}/insights/me")
    me_html = await me.text()
    assert (
        me.status == 200
        and "your profile is <strong>Observer</strong>" in me_html
        and 'id="chart-me"' in me_html
    )
    assert "@m010" not in me_html
    resp = await post_form(
        bob, f"/c/{gen.HANDLE}/insights/me", {"opt_out": "1"}, page=f"/c/{gen.HANDLE}/insights/me"
    )
    assert resp.status == 302
    assert "left out" in await (await bob.get(f"/c/{gen.HANDLE}/insights/me")).text()
    html = await (await boss.get(f"/c/{gen.HANDLE}/insights")).text()
    assert "@bob" not in html and "1 opted out" in html

    outsider = await instance.create_member("cy")
    assert outsider.actor_id
    cy = await instance.login("cy")
    assert (await cy.get(f"/c/{gen.HANDLE}/insights/me")).status == 403
    anonymous = await instance.new_client()
    assert (await anonymous.get(f"/c/{gen.HANDLE}/insights", allow_redirects=False)).status in (
        302,
        303,
        401,
    )


async def test_api_for_managers_and_own_profile(instance: Instance, world: gen.World) -> None:
    base = f"/api/koers/v1/communities/{world.community_id}/insights"
    boss = {"Authorization": f"Bearer {await api_token(instance, 'boss')}"}
    bob = {"Authorization": f"Bearer {await api_token(instance, 'bob')}"}
    resp = await instance.client.get(base, headers=boss)
    body = await resp.json()
    assert resp.status == 200, body
    assert {world.names[int(i)] for i in body["leaders"]} == {
        *gen.CATALYSTS_INFORMAL,
        gen.CATALYST_WITH_ROLE,
        "boss",
    }
    people = {p["account"]["username"]: p for p in body["people"]}
    assert people["m020"]["profile"] == "broadcaster" and people["m010"]["informal"] is True
    assert len(body["weekly_activity"]["like"]) == 12
    assert (await instance.client.get(base, headers=bob)).status == 403
    assert (await instance.client.get(base)).status == 401
    assert (await instance.client.get(base + "?weeks=0", headers=boss)).status == 400
    mine = await (await instance.client.get(base + "/me", headers=bob)).json()
    assert (
        mine["account"]["username"] == "bob"
        and mine["profile"] == "observer"
        and mine["opted_out"] is False
    )


async def test_counts_only_posts_the_viewer_may_see(instance: Instance, world: gen.World) -> None:
    """A followers-only post (tagged with the community) liked by 20 people: the manager, who does not
    follow its author, gets no numbers from it; the author, who may see it, does."""
    import sqlalchemy as sa

    from server import clock
    from server.storage import schema as t

    author = world.ids["m022"]
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.posts.insert().values(
                uri=f"{instance.url}/gen/private",
                author_id=author,
                local=True,
                audience="followers",
                community_id=world.community_id,
                created_at=clock.now(),
                content_html="<p>for my followers</p>",
            )
        )
        post_id = int(res.inserted_primary_key[0])
        await conn.execute(
            t.favourites.insert(),
            [
                {"actor_id": world.ids[u], "post_id": post_id, "created_at": clock.now()}
                for u in gen.BACKGROUND[:20]
            ],
        )
        assert (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.favourites)
                .where(t.favourites.c.post_id == post_id)
            )
        ).scalar() == 20

    data = await _insights(instance, world)
    assert {p.actor.username: p.stats for p in data.people}["m022"].received["like"] == 0
    async with instance.db.read() as conn:
        mine = await insights.my_insights(
            instance.ctx, conn, Viewer(actor_id=author, local=True), world.community_id
        )
    assert mine.person.stats.received["like"] == 20 and mine.person.stats.posts == 11


async def test_a_new_community_without_activity(instance: Instance) -> None:
    ann = await instance.create_member("ann")
    community = await communities.create_community(
        instance.ctx, ann.actor_id, handle="fresh", name="Fresh", purpose_text="Just started."
    )
    client = await instance.login("ann")
    resp = await client.get("/c/fresh/insights?weeks=1")
    html = await resp.text()
    assert resp.status == 200, html
    assert "No informal leaders stand out in this period." in html and 'id="chart-ranking"' in html
    async with instance.db.read() as conn:
        data = await insights.community_insights(
            instance.ctx, conn, Viewer(actor_id=ann.actor_id, local=True), community.id, weeks=1
        )
    assert [p.stats.profile for p in data.people] == ["observer"] and data.totals["posts"] == 0


async def test_gone_quiet_were_active_before_but_not_lately(
    instance: Instance, world: gen.World
) -> None:
    from datetime import timedelta

    from server import clock
    from server.storage import schema as t

    async with instance.db.write() as conn:
        await conn.execute(
            t.posts.insert(),
            [
                {
                    "uri": f"{instance.url}/gen/old/{i}",
                    "author_id": world.ids["m005"],
                    "local": True,
                    "audience": "community",
                    "community_id": world.community_id,
                    "created_at": clock.now() - timedelta(weeks=8, days=i),
                }
                for i in range(5)
            ],
        )

    data = await _insights(instance, world)
    gone = {p.actor.username for p in data.gone_quiet}
    assert "m005" in gone
    assert not gone & {*gen.CATALYSTS_INFORMAL, *gen.OBSERVERS, "boss"}
    html = await (await (await instance.login("boss")).get(f"/c/{gen.HANDLE}/insights")).text()
    assert (
        "Gone quiet lately" in html
        and "@m005" in html.split("Gone quiet lately")[1].split('id="profiles"')[0]
    )
