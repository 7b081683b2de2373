"""Roles, roadmap items and purpose versions as ActivityStreams, next to their HTML pages."""

from __future__ import annotations

from server.services import communities, roadmap, roles

AP = {"Accept": "application/activity+json"}


async def test_community_objects_negotiate_and_respect_visibility(instance) -> None:
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    role_id = await roles.create_role(instance.ctx, alice.actor_id, garden.id, name="Seed keeper")
    await roles.claim_role(instance.ctx, alice.actor_id, role_id)
    open_item = await roadmap.create_item(
        instance.ctx, alice.actor_id, garden.id, title="Build beds"
    )
    closed_item = await roadmap.create_item(
        instance.ctx, alice.actor_id, garden.id, title="Budget", audience="community"
    )
    client = instance.client

    role = await (await client.get(f"/c/garden/roles/{role_id}", headers=AP)).json()
    assert role["name"] == "Seed keeper" and role["koers:holders"]["items"] == [
        f"{instance.url}/users/alice"
    ]
    purpose = await (await client.get("/c/garden/purpose/1", headers=AP)).json()
    assert purpose["koers:version"] == 1 and "Grow food together" in purpose["content"]
    item = await (await client.get(f"/c/garden/roadmap/{open_item}", headers=AP)).json()
    assert item["name"] == "Build beds" and item["koers:status"] == "idea"
    assert (await client.get(f"/c/garden/roadmap/{closed_item}", headers=AP)).status == 404
    assert (await client.get("/c/garden/roles/9999", headers=AP)).status == 404

    roadmap_list = await (await client.get("/communities/garden/roadmap", headers=AP)).json()
    assert [i["name"] for i in roadmap_list["orderedItems"]] == ["Build beds"]
    assert (await (await client.get("/communities/garden/roles", headers=AP)).json())[
        "totalItems"
    ] == 1
    members = await (await client.get("/communities/garden/members?page=1", headers=AP)).json()
    assert members["orderedItems"] == [f"{instance.url}/users/alice"]

    group = await (await client.get("/communities/garden", headers=AP)).json()
    assert group["attributedTo"] == [f"{instance.url}/users/alice"] and group[
        "koers:roles"
    ].endswith("/roles")

    # Browsers still get the community pages' own answer (not ActivityStreams JSON).
    page = await client.get(f"/c/garden/roles/{role_id}", headers={"Accept": "text/html"})
    assert "json" not in page.headers.get("Content-Type", "")
