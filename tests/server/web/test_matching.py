"""Who can help with a role or roadmap item, and community suggestions (pages and Koers API)."""

from server.services import accounts, communities, roadmap, roles
from tests.api.conftest import api_token


async def _world(instance, member_list_visibility="public"):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    cyd = await instance.create_member("cyd")
    await accounts.set_competencies(
        instance.db, bob.actor_id, [("budgeting", "learning"), ("excel", "expert")]
    )
    await accounts.set_competencies(instance.db, cyd.actor_id, [("budgeting", "expert")])
    garden = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together.",
        member_list_visibility=member_list_visibility,
    )
    await communities.join(instance.ctx, bob.actor_id, garden.id)
    role_id = await roles.create_role(
        instance.ctx,
        ana.actor_id,
        garden.id,
        name="Treasurer",
        competencies=[("budgeting", None), ("excel", None)],
    )
    return ana, bob, cyd, garden, role_id


async def test_role_and_roadmap_item_show_who_can_help(instance):
    ana, bob, cyd, garden, role_id = await _world(instance)
    page = await (await instance.client.get(f"/c/garden/roles/{role_id}")).text()
    members_part, _, others_part = page.partition("Others who could help")
    assert "Members with matching competencies" in members_part and "@bob" in members_part
    assert "budgeting (learning), excel (expert)" in members_part
    assert "@cyd" in others_part and "budgeting (expert)" in others_part
    item_id = await roadmap.create_item(
        instance.ctx, ana.actor_id, garden.id, title="Yearly budget", owner_role_id=role_id
    )
    item_page = await (await instance.client.get(f"/c/garden/roadmap/{item_id}")).text()
    assert "@bob" in item_page and "@cyd" in item_page
    token = await api_token(instance, "ana")
    resp = await instance.client.get(
        f"/api/koers/v1/roles/{role_id}/helpers", headers={"Authorization": f"Bearer {token}"}
    )
    body = await resp.json()
    # bob matches both needs (a member), cyd one (at expert level)
    assert [(h["acct"], h["member"], len(h["competencies"])) for h in body] == [
        ("bob", True, 2),
        ("cyd", False, 1),
    ]
    assert (await instance.client.get("/api/koers/v1/roles/999999/helpers")).status == 404


async def test_hidden_member_list_is_not_revealed_by_matches(instance):
    ana, bob, cyd, garden, role_id = await _world(instance, member_list_visibility="members")
    page = await (await instance.client.get(f"/c/garden/roles/{role_id}")).text()
    assert "@bob" not in page and "@cyd" in page
    body = await (await instance.client.get(f"/api/koers/v1/roles/{role_id}/helpers")).json()
    assert [h["acct"] for h in body] == ["cyd"]


async def test_communities_that_need_your_competencies_are_suggested(instance):
    ana, bob, cyd, garden, role_id = await _world(instance)
    client = await instance.login("cyd")
    home = await (await client.get("/home")).text()
    assert "Communities that could use what you know" in home and 'href="/c/garden"' in home
    token = await api_token(instance, "cyd")
    body = await (
        await instance.client.get(
            "/api/koers/v1/suggestions", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert [c["handle"] for c in body["communities"]] == ["garden"]
    assert [p["acct"] for p in body["people"]] == ["bob"]
    # bob is already a member: nothing to suggest to him there
    token = await api_token(instance, "bob")
    body = await (
        await instance.client.get(
            "/api/koers/v1/suggestions", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert body["communities"] == []
    assert (await instance.client.get("/api/koers/v1/suggestions")).status == 401
