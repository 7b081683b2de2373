"""Koers' extra audiences through the API (plain HTTP: Mastodon apps only offer four), the default
audience preference, a community addressed by mention, and community timelines as lists."""

from __future__ import annotations

from server.services import communities
from tests.api.conftest import api_token


def _h(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _readers(instance, status_id: str, tokens: dict[str, str | None]) -> set[str]:  # type: ignore[no-untyped-def]
    out = set()
    for name, token in tokens.items():
        resp = await instance.client.get(f"/api/v1/statuses/{status_id}", headers=_h(token))
        if resp.status == 200:
            out.add(name)
        else:
            assert resp.status == 404
    return out


async def test_members_community_partners_and_default_audience(instance):
    alice = await instance.create_member("alice")
    await instance.create_member("bob")
    await instance.create_member("carol")
    community = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    ta, tb, tc = [await api_token(instance, n) for n in ("alice", "bob", "carol")]
    bob_actor = (
        await (
            await instance.client.get("/api/v1/accounts/verify_credentials", headers=_h(tb))
        ).json()
    )["id"]
    await communities.join(instance.ctx, int(bob_actor), community.id)
    tokens = {"alice": ta, "bob": tb, "carol": tc, "anon": None}
    c = instance.client

    async def post(**data):  # type: ignore[no-untyped-def]
        resp = await c.post("/api/v1/statuses", json=data, headers=_h(ta))
        body = await resp.json()
        assert resp.status == 200, body
        return body

    local = await post(status="members only", visibility="local")
    assert local["visibility"] == "private" and local["koers"]["audience"] == "members"
    assert await _readers(instance, local["id"], tokens) == {"alice", "bob", "carol"}
    gts = await post(status="also members", local_only=True)
    assert gts["koers"]["audience"] == "members"

    comm = await post(
        status="for the garden", visibility="community", community_id=str(community.id)
    )
    assert (
        comm["koers"]["audience"] == "community"
        and comm["koers"]["community"]["handle"] == "garden"
    )
    assert await _readers(instance, comm["id"], tokens) == {"alice", "bob"}

    mention = await post(status="@garden planting day", visibility="private")
    assert (
        mention["koers"]["community"] is not None
        and mention["koers"]["community"]["handle"] == "garden"
    )

    partners = await post(status="for partners", visibility="partners")
    assert partners["koers"]["audience"] == "partners" and "anon" not in await _readers(
        instance, partners["id"], tokens
    )

    bad = await c.post(
        "/api/v1/statuses", json={"status": "x", "visibility": "everyone"}, headers=_h(ta)
    )
    assert bad.status == 422 and "visibility" in (await bad.json())["error"]

    # the default audience is the preference Mastodon calls source[privacy]
    resp = await c.patch(
        "/api/v1/accounts/update_credentials", data={"source[privacy]": "local"}, headers=_h(ta)
    )
    assert resp.status == 200 and (await resp.json())["source"]["privacy"] == "private"
    default = await post(status="no visibility given")
    assert default["koers"]["audience"] == "members"
    prefs = await (await c.get("/api/v1/preferences", headers=_h(ta))).json()
    assert prefs["koers:default:audience"] == "members"

    # the joined community reads as an auto-managed list timeline
    lists = await (await c.get("/api/v1/lists", headers=_h(tb))).json()
    garden = next(x for x in lists if x["koers"]["community_id"] == str(community.id))
    assert garden["title"] == "Garden"
    timeline = await (await c.get(f"/api/v1/timelines/list/{garden['id']}", headers=_h(tb))).json()
    assert comm["id"] in [s["id"] for s in timeline]
    resp = await c.delete(f"/api/v1/lists/{garden['id']}", headers=_h(tb))
    assert resp.status == 422
    # carol (not a member) gets no list for it, and cannot read bob's list
    assert (await c.get(f"/api/v1/timelines/list/{garden['id']}", headers=_h(tc))).status == 404


async def test_profile_update_fields_competencies_and_suggestions(instance):
    from server.services import accounts

    alice = await instance.create_member("alice")
    bob = await instance.create_member("bob")
    await accounts.set_competencies(
        instance.db, alice.actor_id, [("python", "expert"), ("gardening", None)]
    )
    await accounts.set_competencies(instance.db, bob.actor_id, [("python", "learning")])
    ta = await api_token(instance, "alice")
    c = instance.client
    resp = await c.patch(
        "/api/v1/accounts/update_credentials",
        headers=_h(ta),
        data={
            "display_name": "Alice A.",
            "note": "I grow things",
            "fields_attributes[0][name]": "Site",
            "fields_attributes[0][value]": "https://alice.example",
            "locked": "true",
        },
    )
    body = await resp.json()
    assert resp.status == 200, body
    assert (
        body["display_name"] == "Alice A."
        and body["locked"] is True
        and "grow things" in body["note"]
    )
    assert body["source"]["note"] == "I grow things"
    names = [f["name"] for f in body["fields"]]
    assert names == ["Site", "Competencies"] and "python (expert)" in body["fields"][1]["value"]
    sugg = await (await c.get("/api/v2/suggestions", headers=_h(ta))).json()
    assert [s["account"]["acct"] for s in sugg] == ["bob"]
    too_long = await c.patch(
        "/api/v1/accounts/update_credentials", headers=_h(ta), data={"display_name": "x" * 101}
    )
    assert too_long.status == 422
    again = await (await c.get("/api/v1/accounts/verify_credentials", headers=_h(ta))).json()
    assert again["display_name"] == "Alice A."


async def test_koers_notification_types_only_when_asked(instance):
    from server.services import notifications

    alice = await instance.create_member("alice")
    bob = await instance.create_member("bob")
    async with instance.db.write() as conn:
        await notifications.notify(
            conn,
            alice.actor_id,
            "koers.role_assigned",
            from_actor_id=bob.actor_id,
            extra={"role": "event host"},
        )
        await notifications.notify(conn, alice.actor_id, "follow", from_actor_id=bob.actor_id)
    ta = await api_token(instance, "alice")
    c = instance.client
    plain = await (await c.get("/api/v1/notifications", headers=_h(ta))).json()
    assert [n["type"] for n in plain] == ["follow"]
    asked = await (
        await c.get(
            "/api/v1/notifications", params=[("types[]", "koers.role_assigned")], headers=_h(ta)
        )
    ).json()
    assert [n["type"] for n in asked] == ["koers.role_assigned"] and asked[0]["koers"][
        "role"
    ] == "event host"
    excluded = await (
        await c.get("/api/v1/notifications", params=[("exclude_types[]", "follow")], headers=_h(ta))
    ).json()
    assert excluded == []
