"""Koers API for the roadmap and idea box of a community on another instance, on both backends:
the /remote_communities/{handle@host}/... routes and the id routes for the same community."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.api.conftest import api_token
from tests.api.koers.conftest import Caller
from tests.server.web.test_remote_roadmap_pages import (
    GROUP,
    HOST,
    item_doc,
    join,
    remote_garden,
    sent,
    store,
)

R = f"/remote_communities/garden@{HOST}"


async def test_remote_roadmap_through_the_api(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await remote_garden(instance)
    beds = await store(instance, group_id, item_doc(1, "Raised beds", "planned", supports=2))
    rota = await store(instance, group_id, item_doc(2, "Members' rota", "idea", to=[GROUP]))
    bob_account = await instance.create_member("bob")
    bob = Caller(instance, await api_token(instance, "bob"), bob_account.actor_id)
    anon = Caller(instance, None)

    status, body = await anon.get(R + "/roadmap")
    assert status == 200 and [(i["title"], i["status"], i["supports"]) for i in body] == [
        ("Raised beds", "planned", 2)
    ]
    assert (await anon.get(f"/remote_communities/nowhere@{HOST}/roadmap"))[0] == 404
    assert (await anon.post(f"{R}/roadmap/{beds}/support"))[0] == 401

    await join(instance, bob.actor_id, group_id)
    status, body = await bob.get(R + "/roadmap")
    assert {i["title"] for i in body} == {"Raised beds", "Members' rota"}
    status, body = await bob.post(f"{R}/roadmap/{beds}/support")
    assert status == 200 and (body["supports"], body["supporting"]) == (3, True)
    status, body = await bob.post(f"{R}/roadmap/{rota}/follow")
    assert status == 200 and body["following"] is True
    assert [d["object"] for d in await sent(instance, "Follow")] == [
        f"http://{HOST}/c/garden/roadmap/2"
    ]
    assert (await bob.post(f"{R}/roadmap/999999/support"))[0] == 404

    # The id routes answer for the same community.
    status, body = await bob.get(f"/communities/{community_id}/roadmap")
    assert status == 200 and {i["title"] for i in body} == {"Raised beds", "Members' rota"}
    status, body = await bob.post(f"/communities/{community_id}/roadmap/{beds}/unsupport")
    assert status == 200 and (body["supports"], body["supporting"]) == (
        2,
        False,
    )  # the home's count, ours withdrawn
    status, body = await bob.post(f"/communities/{community_id}/roadmap", {"title": "Sneaky"})
    assert status == 403  # a remote roadmap is written at home only


async def test_remote_ideas_through_the_api(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await remote_garden(instance)
    bob_account = await instance.create_member("bob")
    bob = Caller(instance, await api_token(instance, "bob"), bob_account.actor_id)
    status, _ = await bob.post(R + "/ideas", {"title": "Seed swap"})
    assert status == 403 and await sent(instance, "Create") == []  # members only
    await join(instance, bob.actor_id, group_id)
    assert (await bob.post(R + "/ideas", {"title": ""}))[0] == 422
    status, idea = await bob.post(
        R + "/ideas", {"title": "Seed swap", "text": "Monthly", "audience": "community"}
    )
    assert status == 201 and (idea["title"], idea["status"], idea["audience"]) == (
        "Seed swap",
        "open",
        "community",
    )
    assert [d["object"]["koers:idea"] for d in await sent(instance, "Create")] == [True]

    status, box = await bob.get(R + "/ideas")
    assert (
        status == 200
        and box["community_id"] == str(community_id)
        and [i["title"] for i in box["ideas"]] == ["Seed swap"]
    )
    status, body = await bob.post(f"{R}/ideas/{idea['post_id']}/support")
    assert status == 200 and body == {"post_id": idea["post_id"], "supported": True}
    assert len(await sent(instance, "Like")) == 1  # the Group counts it at home
    status, body = await bob.post(
        f"/ideas/{idea['id']}/unsupport"
    )  # the id route: an Undo of the Like
    assert status == 200
    assert [d["object"]["type"] for d in await sent(instance, "Undo")] == ["Like"]
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.idea_supports))
        ).scalar_one() == 0
    assert (await bob.post(f"{R}/ideas/999999/support"))[0] == 404


async def test_id_routes_take_handle_at_host(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await remote_garden(instance)
    beds = await store(instance, group_id, item_doc(1, "Raised beds", "planned"))
    bob_account = await instance.create_member("bob")
    bob = Caller(instance, await api_token(instance, "bob"), bob_account.actor_id)
    await join(instance, bob.actor_id, group_id)
    status, body = await bob.get(f"/communities/garden@{HOST}/roadmap")
    assert status == 200 and [(i["id"], i["community_id"]) for i in body] == [
        (str(beds), str(community_id))
    ]
    status, body = await bob.get(f"/communities/garden@{HOST}/roadmap/{beds}")
    assert status == 200 and body["history"][0]["to_status"] == "planned"
    status, idea = await bob.post(f"/communities/garden@{HOST}/ideas", {"title": "Bee hotel"})
    assert status == 201 and idea["community_id"] == str(community_id)
    status, listed = await bob.get(f"/communities/garden@{HOST}/ideas")
    assert [i["title"] for i in listed] == ["Bee hotel"]
    assert (await bob.get(f"/communities/nowhere@{HOST}/roadmap"))[0] == 404


async def test_ideas_of_a_remote_box_are_decided_at_home_only(instance) -> None:  # type: ignore[no-untyped-def]
    """A manager here of a community hosted elsewhere cannot merge, decline or promote our copies."""
    from server.services import communities

    group_id, community_id = await remote_garden(instance)
    bob_account = await instance.create_member("bob")
    bob = Caller(instance, await api_token(instance, "bob"), bob_account.actor_id)
    await join(instance, bob.actor_id, group_id)
    _, first = await bob.post(R + "/ideas", {"title": "Seed swap"})
    _, second = await bob.post(R + "/ideas", {"title": "Seed swap again"})
    async with (
        instance.db.write() as conn
    ):  # bob manages the community (as the Group's Add would say)
        await conn.execute(
            t.community_managers.insert().values(
                community_id=community_id, actor_id=bob.actor_id, created_at=sa.func.now()
            )
        )
    async with instance.db.read() as conn:
        assert await communities.is_manager(conn, community_id, bob.actor_id)
    for path, body in (
        (f"/ideas/{first['id']}/merge", {"into_id": second["id"]}),
        (f"/ideas/{first['id']}/promote", {"to": "roadmap"}),
    ):
        status, answer = await bob.post(path, body)
        assert status == 403 and "another instance" in answer["error"], (path, answer)
    async with instance.db.read() as conn:
        states = (
            (await conn.execute(sa.select(t.ideas.c.status).order_by(t.ideas.c.id))).scalars().all()
        )
    assert states == ["open", "open"]
