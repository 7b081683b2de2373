"""Koers API: results credit contributors by handle (who are then mentioned and notified), and kudos."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.api.koers.conftest import World


async def _rows(world: World, query: sa.Select) -> list:
    async with world.instance.db.read() as conn:
        return list(await conn.execute(query))


async def test_contributors_by_handle_are_credited_mentioned_and_notified(world: World) -> None:
    cid = world.community_id
    status, result = await world.member.post(
        f"/communities/{cid}/results",
        {
            "text": "Forty trays planted",
            "audience": "public",
            "contributors": ["@ann", "cy", "ann"],
        },
    )
    assert status == 201, result
    assert sorted(c["acct"] for c in result["contributors"]) == ["ann", "bob", "cy"]
    mentions = await _rows(
        world,
        sa.select(t.post_mentions.c.actor_id).where(t.post_mentions.c.post_id == int(result["id"])),
    )
    assert {m[0] for m in mentions} == {world.manager.actor_id, world.outsider.actor_id}
    notes = await _rows(
        world,
        sa.select(t.notifications.c.actor_id).where(t.notifications.c.post_id == int(result["id"])),
    )
    assert {n[0] for n in notes} >= {world.manager.actor_id, world.outsider.actor_id}


async def test_unknown_or_malformed_contributor_writes_nothing(world: World) -> None:
    cid = world.community_id
    for contributors in (["nobody"], ["not a handle"], "ann", [5], ["x"] * 21):
        status, body = await world.member.post(
            f"/communities/{cid}/results", {"text": "x", "contributors": contributors}
        )
        assert status == 422, (contributors, body)
        assert body.get("field") == "contributors" or "contributors" in body["error"]
    assert await _rows(world, sa.select(t.posts.c.id)) == []


async def test_kudos_reply_mentions_the_person(world: World) -> None:
    cid = world.community_id
    _, result = await world.member.post(
        f"/communities/{cid}/results", {"text": "Roof done", "contributors": ["ann"]}
    )
    status, body = await world.member.post(
        f"/results/{result['id']}/kudos",
        {"account_id": str(world.manager.actor_id), "message": "great <b>work</b>"},
    )
    assert status == 201, body
    assert "Kudos" in body["content"] and "<b>" not in body["content"]
    reply = (await _rows(world, sa.select(t.posts).where(t.posts.c.id == int(body["id"]))))[0]
    assert reply.in_reply_to_id == int(result["id"])
    notes = await _rows(
        world,
        sa.select(t.notifications.c.type).where(
            t.notifications.c.actor_id == world.manager.actor_id,
            t.notifications.c.post_id == reply.id,
        ),
    )
    assert ("mention",) in notes
    # only people the result credits, and not oneself; nothing written on refusal
    before = len(await _rows(world, sa.select(t.posts.c.id)))
    status, _ = await world.member.post(
        f"/results/{result['id']}/kudos", {"account_id": str(world.outsider.actor_id)}
    )
    assert status == 422
    status, _ = await world.member.post(
        f"/results/{result['id']}/kudos", {"account_id": str(world.member.actor_id)}
    )
    assert status == 422
    status, _ = await world.member.post(
        f"/results/{result['id']}/kudos", {"account_id": "1", "message": "x" * 501}
    )
    assert status == 422
    status, _ = await world.anonymous.post(
        f"/results/{result['id']}/kudos", {"account_id": str(world.manager.actor_id)}
    )
    assert status == 401
    assert len(await _rows(world, sa.select(t.posts.c.id))) == before
