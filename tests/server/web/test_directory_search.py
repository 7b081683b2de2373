"""On a running instance: the directory page and its API, the search page (every kind of hit,
visibility, bad input, a handle resolved for members) and the organisation feed."""

from __future__ import annotations

from server.keys import CTX
from server.services import accounts, communities, posts
from server.services.posts import Draft
from server.visibility import Audience


async def test_the_directory_page_and_api(instance) -> None:  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana", display_name="Ana Pruner")
    bo = await instance.create_member("bo")
    await accounts.set_competencies(instance.db, ana.actor_id, [("pruning", "expert")])
    await accounts.update_profile(instance.db, bo.user_id, discoverable=False)
    ctx = instance.app[CTX]
    garden = await communities.create_community(
        ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    page = await (await instance.client.get("/people")).text()
    assert "@ana@" in page and "@bo@" not in page and 'name="organisation"' in page
    assert "Garden" in page  # the community filter offers it
    by_name = await (await instance.client.get("/people?q=prun")).text()
    assert "@ana@" in by_name
    filtered = await (
        await instance.client.get(f"/people?community={garden.id}&competency=pru&level=expert")
    ).text()
    assert "@ana@" in filtered and "pruning (expert)" in filtered
    assert (await instance.client.get("/people?community=abc")).status == 422
    assert (await instance.client.get("/people?level=guru")).status == 422

    resp = await instance.client.get("/api/koers/v1/directory", params={"q": "ana"})
    assert resp.status == 200
    assert [p["acct"] for p in await resp.json()] == ["ana"]
    resp = await instance.client.get(
        "/api/koers/v1/directory", params={"competency": "pru", "level": "practised"}
    )
    assert [(p["acct"], p["competency"], p["level"]) for p in await resp.json()] == [
        ("ana", "pruning", "expert")
    ]
    for bad in ({"level": ""}, {"community_id": "x"}, {"page": "0"}, {"page": "1001"}):
        assert (await instance.client.get("/api/koers/v1/directory", params=bad)).status == 400


async def test_search_page_and_organisation_feed(instance) -> None:  # type: ignore[no-untyped-def]
    ana = await instance.create_member("ana")
    ctx = instance.app[CTX]
    bees = await communities.create_community(
        ctx, ana.actor_id, handle="bees", name="Beekeepers", purpose_text="Healthy hives"
    )
    await posts.create_post(ctx, ana.actor_id, Draft(source="The #beehive is full of honey"))
    await posts.create_post(
        ctx,
        ana.actor_id,
        Draft(source="Members: honey tasting on Friday", audience=Audience.MEMBERS),
    )
    await posts.create_post(
        ctx,
        ana.actor_id,
        Draft(source="Honey harvest: 40 kg", kind="result", title="Harvest", community_id=bees.id),
    )
    anonymous = await (await instance.client.get("/search?q=honey")).text()
    assert "full of honey" in anonymous and "40 kg" in anonymous
    assert "honey tasting" not in anonymous  # members only
    assert 'id="s-results"' in anonymous and 'id="s-posts"' in anonymous
    member = await instance.login("ana")
    signed_in = await (await member.get("/search?q=honey")).text()
    assert "honey tasting" in signed_in
    communities_hit = await (await instance.client.get("/search?q=beekeep")).text()
    assert 'href="/c/bees"' in communities_hit
    tags = await (await instance.client.get("/search?q=%23beeh")).text()
    assert 'href="/tags/beehive"' in tags
    people = await (await instance.client.get("/search?q=ana")).text()
    assert 'id="s-people"' in people and "@ana@" in people
    handle = await (await member.get(f"/search?q=acct:ana@{instance.settings.domain}")).text()
    assert 'id="s-people"' in handle
    nothing = await (await instance.client.get("/search?q=zzzqqq")).text()
    assert "Nothing found" in nothing
    assert (await instance.client.get("/search?q=" + "x" * 201)).status == 422
    assert 'role="search"' in await (await instance.client.get("/communities")).text()

    feed = await (await instance.client.get("/feed")).text()
    assert "full of honey" in feed and "honey tasting" not in feed
    assert "honey tasting" in await (await member.get("/feed")).text()
