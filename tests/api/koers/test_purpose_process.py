"""Koers API: the purpose process — phases, proposals with diff, decisions (poll and consent), endorsements."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import posts
from server.storage import schema as t
from tests.api.koers.conftest import World


async def _count(world: World, table: sa.Table) -> int:
    async with world.instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def _drafting(world: World) -> None:
    for phase in ("inventory", "discussion"):
        status, body = await world.manager.post(
            f"/communities/{world.community_id}/purpose/phase", {"phase": phase}
        )
        assert status == 200, body
    status, body = await world.manager.post(
        f"/communities/{world.community_id}/purpose/phase",
        {"phase": "drafting", "planned_end": "2099-03-01", "note": "Write!"},
    )
    assert (
        status == 200
        and body["phase"] == "drafting"
        and body["planned_end"].startswith("2099-03-01")
    )
    assert [p["phase"] for p in body["history"]] == ["drafting", "discussion", "inventory"]


async def test_phases_proposals_and_a_poll(world: World) -> None:
    cid = world.community_id
    status, body = await world.anonymous.get(f"/communities/{cid}/purpose/phase")
    assert status == 200 and body["phase"] == "in_force" and body["history"] == []
    status, body = await world.member.post(
        f"/communities/{cid}/purpose/phase", {"phase": "inventory"}
    )
    assert status == 403 and await _count(world, t.purpose_phases) == 0
    status, body = await world.manager.post(
        f"/communities/{cid}/purpose/phase", {"phase": "review", "planned_end": "soon"}
    )
    assert status == 422 and body["field"] == "planned_end"
    await _drafting(world)

    status, body = await world.outsider.post(
        f"/communities/{cid}/purpose/proposals", {"text": "Ours now"}
    )
    assert status == 403
    status, body = await world.member.post(f"/communities/{cid}/purpose/proposals", {"text": ""})
    assert status == 422 and await _count(world, t.purpose_proposals) == 0
    status, prop = await world.member.post(
        f"/communities/{cid}/purpose/proposals",
        {"text": "Green every roof and wall in town", "reason": "walls too"},
    )
    assert status == 201, prop
    assert (
        prop["state"] == "open"
        and prop["author"] == "bob"
        and '<ins aria-label="added">and wall </ins>' in prop["diff_html"]
    )
    status, listed = await world.manager.get(f"/communities/{cid}/purpose/proposals")
    assert [p["id"] for p in listed] == [prop["id"]]
    status, listed = await world.anonymous.get(f"/communities/{cid}/purpose/proposals")
    assert status == 200 and listed == []  # proposals are community posts
    assert (await world.outsider.get(f"/purpose/proposals/{prop['id']}"))[0] == 404

    status, body = await world.member.post(
        f"/communities/{cid}/purpose/decisions", {"method": "poll", "proposal_ids": [prop["id"]]}
    )
    assert status == 403
    status, decision = await world.manager.post(
        f"/communities/{cid}/purpose/decisions", {"method": "poll", "proposal_ids": [prop["id"]]}
    )
    assert (
        status == 201
        and decision["method"] == "poll"
        and decision["counts"] == {"Adopt": 0, "Keep current": 0}
    )
    async with world.instance.db.read() as conn:
        poll_id = (
            await conn.execute(
                sa.select(t.polls.c.id).where(t.polls.c.post_id == int(decision["post_id"]))
            )
        ).scalar_one()
    await posts.vote(world.instance.ctx, world.member.actor_id, poll_id, [0])
    status, body = await world.member.post(
        f"/purpose/decisions/{decision['id']}/consent", {"position": "agree"}
    )
    assert status == 409  # a poll is voted in, not consented to
    status, closed = await world.manager.post(f"/purpose/decisions/{decision['id']}/close")
    assert (
        status == 200
        and closed["result"] == "adopted"
        and closed["version"] == 2
        and closed["closed_by"] == "ann"
    )
    status, current = await world.anonymous.get(f"/communities/{cid}/purpose")
    assert current["version"] == 2 and current["text"] == "Green every roof and wall in town"
    status, phase = await world.anonymous.get(f"/communities/{cid}/purpose/phase")
    assert phase["phase"] == "in_force"


async def test_consent_round_and_endorsements(world: World) -> None:
    cid = world.community_id
    await _drafting(world)
    status, prop = await world.member.post(
        f"/communities/{cid}/purpose/proposals", {"text": "Green one roof"}
    )
    status, decision = await world.manager.post(
        f"/communities/{cid}/purpose/decisions", {"method": "consent", "proposal_ids": [prop["id"]]}
    )
    assert status == 201
    status, body = await world.member.post(
        f"/purpose/decisions/{decision['id']}/consent", {"position": "block"}
    )
    assert (
        status == 422 and body["field"] == "reason" and await _count(world, t.purpose_consents) == 0
    )
    status, body = await world.outsider.post(
        f"/purpose/decisions/{decision['id']}/consent", {"position": "agree"}
    )
    assert status == 403
    status, body = await world.member.post(
        f"/purpose/decisions/{decision['id']}/consent", {"position": "block", "reason": "too small"}
    )
    assert status == 200 and body["counts"]["block"] == 1
    status, closed = await world.manager.post(f"/purpose/decisions/{decision['id']}/close")
    assert closed["result"] == "blocked" and closed["version"] is None

    status, body = await world.outsider.post(f"/communities/{cid}/purpose/endorsements")
    assert status == 403 and await _count(world, t.purpose_endorsements) == 0
    status, body = await world.member.post(f"/communities/{cid}/purpose/endorsements")
    assert status == 200 and body == {"version": 1, "endorsed": True}
    status, body = await world.anonymous.get(f"/communities/{cid}/purpose/endorsements")
    assert status == 200 and [a["username"] for a in body["endorsed"]] == ["bob"]
    assert [a["username"] for a in body["pending"]] == ["ann"]
