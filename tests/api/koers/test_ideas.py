"""Koers API: the idea box — submit, list by support, visibility, support once, merge, promote."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.api.koers.conftest import World


async def _count(world: World, table: sa.Table) -> int:
    async with world.instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_submit_list_support_and_visibility(world: World) -> None:
    cid = world.community_id
    status, idea = await world.member.post(
        f"/communities/{cid}/ideas", {"title": "Seed library", "text": "In the *hall*"}
    )
    assert status == 201, idea
    assert (
        idea["title"] == "Seed library"
        and "<em>hall</em>" in idea["content"]
        and idea["status"] == "open"
    )
    assert idea["supports"] == 0 and idea["post_id"]
    status, hidden = await world.member.post(
        f"/communities/{cid}/ideas", {"title": "Members only", "audience": "community"}
    )
    assert status == 201
    status, body = await world.manager.post(f"/ideas/{idea['id']}/support")
    assert status == 200 and body["supports"] == 1 and body["supported"] is True
    status, body = await world.manager.post(f"/ideas/{idea['id']}/support")
    assert body["supports"] == 1  # one support per person
    status, listed = await world.manager.get(f"/communities/{cid}/ideas")
    assert [i["id"] for i in listed] == [idea["id"], hidden["id"]]  # most supported first
    status, listed = await world.anonymous.get(f"/communities/{cid}/ideas")
    assert [i["id"] for i in listed] == [idea["id"]]
    status, _ = await world.outsider.get(f"/ideas/{hidden['id']}")
    assert status == 404
    status, body = await world.manager.post(f"/ideas/{idea['id']}/unsupport")
    assert body["supports"] == 0 and body["supported"] is False
    status, _ = await world.anonymous.post(f"/ideas/{idea['id']}/support")
    assert status == 401


async def test_bad_input_writes_nothing(world: World) -> None:
    cid = world.community_id
    for body in (
        {},
        {"title": ""},
        {"title": 5},
        {"title": "x" * 201},
        {"title": "ok", "audience": "world"},
    ):
        status, answer = await world.member.post(f"/communities/{cid}/ideas", body)
        assert status == 422, (body, answer)
    status, _ = await world.outsider.post(f"/communities/{cid}/ideas", {"title": "not a member"})
    assert status == 403
    for bad in ("nope", ""):
        status, _ = await world.member.get(f"/communities/{cid}/ideas", params={"status": bad})
        assert status == 400, bad
    assert await _count(world, t.ideas) == 0 and await _count(world, t.posts) == 0


async def test_merge_and_promote_by_managers_only(world: World) -> None:
    cid = world.community_id
    _, keep = await world.member.post(f"/communities/{cid}/ideas", {"title": "Tool shed"})
    _, dup = await world.manager.post(f"/communities/{cid}/ideas", {"title": "A shed for tools"})
    status, _ = await world.member.post(f"/ideas/{dup['id']}/merge", {"into_id": keep["id"]})
    assert status == 403
    status, _ = await world.manager.post(f"/ideas/{dup['id']}/merge", {"into_id": dup["id"]})
    assert status == 422
    status, merged = await world.manager.post(f"/ideas/{dup['id']}/merge", {"into_id": keep["id"]})
    assert status == 200 and merged["status"] == "merged" and merged["merged_into_id"] == keep["id"]
    _, kept = await world.member.get(f"/ideas/{keep['id']}")
    assert kept["supports"] == 1  # the duplicate's author now supports the kept idea
    status, _ = await world.manager.post(f"/ideas/{dup['id']}/promote", {})
    assert status == 409  # a merged idea cannot be promoted
    status, promoted = await world.manager.post(f"/ideas/{keep['id']}/promote", {"to": "roadmap"})
    assert (
        status == 200
        and promoted["status"] == "promoted"
        and promoted["promoted_to"]["kind"] == "roadmap"
    )
    _, item = await world.member.get(f"/communities/{cid}/roadmap/{promoted['promoted_to']['id']}")
    assert item["title"] == "Tool shed"
    _, listed = await world.member.get(f"/communities/{cid}/ideas", params={"status": "open"})
    assert listed == []


async def test_promote_to_a_purpose_proposal(world: World) -> None:
    from server.services import purpose_phases

    cid = world.community_id
    _, idea = await world.member.post(f"/communities/{cid}/ideas", {"title": "Roofs and walls"})
    path = f"/ideas/{idea['id']}/promote"
    status, _ = await world.manager.post(path, {"to": "proposal"})
    assert status == 422  # the proposed purpose text is needed
    status, body = await world.manager.post(
        path, {"to": "proposal", "text": "Green every roof and wall in town"}
    )
    assert (
        status == 422 and body["field"] == "text"
    )  # the purpose is in force, not open for proposals
    await purpose_phases.set_phase(world.instance.ctx, world.manager.actor_id, cid, "review")
    status, body = await world.member.post(
        path, {"to": "proposal", "text": "Green every roof and wall in town"}
    )
    assert status == 403
    status, body = await world.manager.post(
        path, {"to": "proposal", "text": "Green every roof and wall in town"}
    )
    assert (
        status == 200 and body["status"] == "promoted" and body["promoted_to"]["kind"] == "proposal"
    )
