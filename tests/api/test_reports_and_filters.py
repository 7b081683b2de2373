"""Client API gaps: reports (and Flags to remote servers), search resolving a remote status by URL,
a member's own domain blocks, conversation mutes, and profile edits that federate."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.services import follows, posts
from server.storage import schema as t
from tests.api.conftest import api_token
from tests.federation.e2e_helpers import follow_remote, pump, remote_id


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _notifications(inst, actor_id: int) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.notifications.c.type, t.notifications.c.from_actor_id).where(
                t.notifications.c.actor_id == actor_id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_report_reaches_admins_and_checks_its_posts(instance) -> None:
    admin = await instance.create_member("moderator", admin=True)
    alice = await instance.create_member("alice")
    bob = await instance.create_member("bob")
    token = await api_token(instance, "alice")
    pid = await posts.create_post(
        instance.ctx,
        bob.actor_id,
        posts.Draft(source="buy pills", audience=posts.Audience("public")),
    )
    resp = await instance.client.post(
        "/api/v1/reports",
        headers=_h(token),
        json={
            "account_id": str(bob.actor_id),
            "status_ids": [str(pid)],
            "comment": "spam",
            "category": "spam",
        },
    )
    body = await resp.json()
    assert resp.status == 200, body
    assert body["target_account"]["id"] == str(bob.actor_id) and body["status_ids"] == [str(pid)]
    assert body["comment"] == "spam" and body["forwarded"] is False
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.reports))).one()
    assert (
        row.reporter_id == alice.actor_id
        and row.target_id == bob.actor_id
        and row.post_ids == [pid]
    )
    assert ("koers.report", alice.actor_id) in await _notifications(instance, admin.actor_id)
    assert await _notifications(instance, bob.actor_id) == []
    # A post that is not the reported account's, an unknown account, and yourself are refused.
    own = await posts.create_post(
        instance.ctx, alice.actor_id, posts.Draft(source="mine", audience=posts.Audience("public"))
    )
    for payload, status in (
        ({"account_id": str(bob.actor_id), "status_ids": [str(own)]}, 422),
        ({"account_id": "999999"}, 404),
        ({"account_id": str(alice.actor_id)}, 422),
        ({}, 422),
    ):
        resp = await instance.client.post("/api/v1/reports", headers=_h(token), json=payload)
        assert resp.status == status, (payload, await resp.text())
    anon = await instance.client.post("/api/v1/reports", json={"account_id": str(bob.actor_id)})
    assert anon.status == 401


async def test_conversation_mute_silences_the_thread(instance) -> None:
    alice = await instance.create_member("alice")
    bob = await instance.create_member("bob")
    token = await api_token(instance, "alice")
    root = await posts.create_post(
        instance.ctx,
        alice.actor_id,
        posts.Draft(source="thread", audience=posts.Audience("public")),
    )
    await posts.create_post(
        instance.ctx,
        bob.actor_id,
        posts.Draft(source="@alice first", audience=posts.Audience("public"), in_reply_to_id=root),
    )
    before = len(await _notifications(instance, alice.actor_id))
    assert before >= 1
    assert (
        await instance.client.post(f"/api/v1/statuses/{root}/mute", headers=_h(token))
    ).status == 200
    await posts.create_post(
        instance.ctx,
        bob.actor_id,
        posts.Draft(source="@alice second", audience=posts.Audience("public"), in_reply_to_id=root),
    )
    await posts.favourite(instance.ctx, bob.actor_id, root)
    assert len(await _notifications(instance, alice.actor_id)) == before
    # Another thread still notifies.
    other = await posts.create_post(
        instance.ctx, alice.actor_id, posts.Draft(source="other", audience=posts.Audience("public"))
    )
    await posts.favourite(instance.ctx, bob.actor_id, other)
    assert len(await _notifications(instance, alice.actor_id)) == before + 1


async def test_profile_edit_through_the_api_emits_actor_updated(instance) -> None:
    await instance.create_member("alice")
    token = await api_token(instance, "alice")
    seen: list[str] = []

    async def listener(conn, event) -> None:  # type: ignore[no-untyped-def]
        seen.append(event.kind)

    instance.ctx.events.on("actor.updated", listener)
    resp = await instance.client.patch(
        "/api/v1/accounts/update_credentials", headers=_h(token), data={"display_name": "Alice A."}
    )
    assert resp.status == 200 and (await resp.json())["display_name"] == "Alice A."
    assert seen == ["actor.updated"]


@pytest.mark.slow
async def test_remote_report_search_resolve_and_domain_block(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    carol = await a.create_member("carol")
    await b.create_member("bob")
    b_admin = await b.create_member("boss", admin=True)
    token = await api_token(b, "bob")
    bob_id = await b.client.get("/api/v1/accounts/verify_credentials", headers=_h(token))
    bob_actor = int((await bob_id.json())["id"])

    # Search with resolve=true imports a remote public status by its URL; a followers-only one stays hidden.
    pid = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(source="Harvest on Friday", audience=posts.Audience("public")),
    )
    url = f"{a.url}/users/alice/posts/{pid}"
    found = await (
        await b.client.get(
            "/api/v2/search", params={"q": url, "resolve": "true"}, headers=_h(token)
        )
    ).json()
    assert [s["uri"] for s in found["statuses"]] == [url] and "Harvest" in found["statuses"][0][
        "content"
    ]
    secret = await posts.create_post(
        a.ctx, carol.actor_id, posts.Draft(source="private", audience=posts.Audience("followers"))
    )
    hidden = await (
        await b.client.get(
            "/api/v2/search",
            params={"q": f"{a.url}/users/carol/posts/{secret}", "resolve": "true"},
            headers=_h(token),
        )
    ).json()
    assert hidden["statuses"] == []
    without = await (
        await b.client.get(
            "/api/v2/search", params={"q": f"{a.url}/users/alice/posts/999"}, headers=_h(token)
        )
    ).json()
    assert without["statuses"] == []

    # A forwarded report of a remote account: a reports row here, and a Flag for A's admins.
    a_admin = await a.create_member("moderator", admin=True)
    alice_on_b = await remote_id(b, a, "/users/alice")
    resp = await b.client.post(
        "/api/v1/reports",
        headers=_h(token),
        json={"account_id": str(alice_on_b), "comment": "rude", "forward": True},
    )
    assert resp.status == 200 and (await resp.json())["forwarded"] is True
    assert ("koers.report", bob_actor) in await _notifications(b, b_admin.actor_id)
    await pump(a, b)
    async with a.db.read() as conn:
        flagged = (await conn.execute(sa.select(t.reports.c.target_id, t.reports.c.comment))).all()
    assert [tuple(r) for r in flagged] == [(alice.actor_id, "rude")]
    assert any(kind == "koers.report" for kind, _ in await _notifications(a, a_admin.actor_id))

    # Bob follows alice, then blocks A's domain: her posts leave his home, public and tag timelines.
    await follows.follow(b.ctx, bob_actor, alice_on_b)
    await pump(a, b)
    tagged = await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(source="Seeds #garden", audience=posts.Audience("public")),
    )
    await pump(a, b)
    timelines = (
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/garden",
    )
    for path in timelines:
        got = await (await b.client.get(path, headers=_h(token))).json()
        assert f"{a.url}/users/alice/posts/{tagged}" in [s["uri"] for s in got], path
    assert (
        await b.client.post(
            "/api/v1/domain_blocks", headers=_h(token), data={"domain": a.settings.domain}
        )
    ).status == 200
    for path in timelines:
        got = await (await b.client.get(path, headers=_h(token))).json()
        assert all(not s["uri"].startswith(a.url) for s in got), path
    # ... and nobody from there notifies him any more.
    before = len(await _notifications(b, bob_actor))
    await follow_remote(a, b, carol.actor_id, "/users/bob")
    await pump(a, b)
    assert len(await _notifications(b, bob_actor)) == before
