"""A role's term and each holding's end, and an initiative's lead, in their ActivityStreams documents."""

from __future__ import annotations

from server.services import communities, initiatives, roles

AP = {"Accept": "application/activity+json"}


async def test_role_term_and_initiative_lead_federate(instance) -> None:
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    role_id = await roles.create_role(
        instance.ctx, alice.actor_id, garden.id, name="Host", term_days=90
    )
    await roles.claim_role(instance.ctx, alice.actor_id, role_id)
    item_id = await initiatives.start(instance.ctx, alice.actor_id, garden.id, title="Seed swap")
    role = await (await instance.client.get(f"/c/garden/roles/{role_id}", headers=AP)).json()
    assert role["koers:termDays"] == 90
    [term] = role["koers:terms"]
    assert (
        term["koers:holder"] == f"{instance.url}/users/alice"
        and term["koers:endsAt"] > term["startTime"]
    )
    item = await (await instance.client.get(f"/c/garden/roadmap/{item_id}", headers=AP)).json()
    assert item["koers:lead"] == f"{instance.url}/users/alice" and item["koers:status"] == "idea"
    context = await (await instance.client.get("/ns/koers")).json()
    terms = context["@context"]
    assert "termDays" in terms and "endsAt" in terms and terms["lead"]["@type"] == "@id"
