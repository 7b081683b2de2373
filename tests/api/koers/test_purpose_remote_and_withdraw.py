"""Koers API: withdrawing an endorsement, and the purpose process of a community on another instance
addressed as ``handle@host`` (read the phase, the purpose and proposals; propose; endorse/withdraw;
answer a consent round — each federating to the community's instance)."""

from __future__ import annotations

import sqlalchemy as sa

from server import clock
from server.services import posts
from server.storage import schema as t
from tests.api.conftest import api_token
from tests.api.koers.conftest import Caller, World
from tests.server.web.test_remote_purpose_pages import HOST, _member, _remote_garden

REMOTE = f"/communities/garden@{HOST}/purpose"


async def test_member_withdraws_an_endorsement(world: World) -> None:
    cid = world.community_id
    status, body = await world.member.post(f"/communities/{cid}/purpose/endorsements")
    assert status == 200 and body == {"version": 1, "endorsed": True}
    status, body = await world.manager.get(f"/communities/{cid}/purpose/endorsements")
    assert [a["username"] for a in body["endorsed"]] == ["bob"]
    status, body = await world.member.call("DELETE", f"/communities/{cid}/purpose/endorsements")
    assert status == 200 and body == {"version": 1, "endorsed": False}
    status, body = await world.manager.get(f"/communities/{cid}/purpose/endorsements")
    assert body["endorsed"] == [] and {a["username"] for a in body["pending"]} == {"ann", "bob"}
    status, body = await world.member.call("DELETE", f"/communities/{cid}/purpose/endorsements")
    assert status == 200 and body["endorsed"] is False  # withdrawing twice is harmless
    status, _ = await world.anonymous.call("DELETE", f"/communities/{cid}/purpose/endorsements")
    assert status == 401


async def test_local_withdraw_on_the_web_page(world: World) -> None:
    from tests.conftest import post_form

    cid = world.community_id
    await world.member.post(f"/communities/{cid}/purpose/endorsements")
    client = await world.instance.login("bob")
    html = await (await client.get("/c/gardeners/purpose")).text()
    assert "Withdraw my endorsement" in html
    res = await post_form(client, "/c/gardeners/purpose/withdraw", {}, page="/c/gardeners/purpose")
    assert res.status == 302
    html = await (await client.get("/c/gardeners/purpose")).text()
    assert "I endorse version 1 of the purpose" in html
    async with world.instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.purpose_endorsements))
        ).scalar_one() == 0


async def test_remote_community_by_handle(world: World) -> None:
    inst = world.instance
    group_id, community_id = await _remote_garden(inst)
    dee = await _member(inst, "dee", group_id)
    api = Caller(inst, await api_token(inst, "dee"), dee)
    status, body = await api.get(REMOTE + "/phase")
    assert status == 200 and body["phase"] == "drafting" and body["note"] == "Write with us"
    status, body = await world.anonymous.get(REMOTE)
    assert status == 200 and body["version"] == 1
    assert (await world.anonymous.get(f"/communities/nobody@{HOST}/purpose/phase"))[0] == 404
    assert (await world.anonymous.get("/communities/garden@elsewhere.example/purpose"))[0] == 404

    status, body = await api.post(
        REMOTE + "/proposals", {"text": "Grow and share food together", "reason": "share"}
    )
    assert status == 201 and body["state"] == "open" and body["community_id"] == str(community_id)
    status, listed = await api.get(REMOTE + "/proposals")
    assert [p["text"] for p in listed] == ["Grow and share food together"]
    assert (await world.outsider.post(REMOTE + "/proposals", {"text": "Ours"}))[0] == 403

    status, body = await api.post(REMOTE + "/endorsements")
    assert status == 200 and body == {"version": 1, "endorsed": True}
    status, body = await api.call("DELETE", REMOTE + "/endorsements")
    assert status == 200 and body == {"version": 1, "endorsed": False}
    async with inst.db.read() as conn:
        sent = (
            (
                await conn.execute(
                    sa.select(t.activities.c.type)
                    .where(t.activities.c.direction == "out")
                    .order_by(t.activities.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert sent[-2:] == ["Like", "Undo"]


async def test_remote_consent_round_through_the_api(world: World) -> None:
    inst = world.instance
    group_id, community_id = await _remote_garden(inst, phase="decision")
    dee = await _member(inst, "dee", group_id)
    api = Caller(inst, await api_token(inst, "dee"), dee)
    round_post = await posts.create_post(
        inst.ctx,
        dee,
        posts.Draft(
            source="Consent round", audience=posts.Audience("community"), community_id=community_id
        ),
    )
    async with inst.db.write() as conn:
        res = await conn.execute(
            t.purpose_decisions.insert().values(
                community_id=community_id,
                method="consent",
                post_id=round_post,
                opened_at=clock.now(),
                counts={},
            )
        )
    decision_id = int(res.inserted_primary_key[0])
    status, body = await api.post(
        f"/purpose/decisions/{decision_id}/consent", {"position": "block"}
    )
    assert status == 422 and body["field"] == "reason"
    status, body = await api.post(
        f"/purpose/decisions/{decision_id}/consent", {"position": "agree"}
    )
    assert status == 200 and body["method"] == "consent"
    async with inst.db.read() as conn:
        reply = (
            await conn.execute(sa.select(t.posts).where(t.posts.c.in_reply_to_id == round_post))
        ).one()
    assert reply.extra == {"consent": "agree"} and "I agree." in reply.content_html
