"""The roles of a community on another instance (/c/{handle}@{host}/roles), on both backends: what
``role_sync`` keeps of the Group's role documents, and claiming / giving up a role from here (a
``Join`` / ``Leave`` queued for the Group). The two-instance flow is in
tests/federation/test_remote_roles_e2e.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from server import clock
from server.activitypub.roles import sync as role_sync
from server.clock import iso
from server.storage import schema as t
from tests.conftest import post_form

HOST = "a.example:8080"
PAGE = f"/c/energy@{HOST}"
ORIGIN = f"http://{HOST}"


def _role(n: int, name: str, fill_mode: str, holders: list[str], **kw: Any) -> dict[str, Any]:
    """A role document as a Koers origin publishes it (``community_objects.role_object``)."""
    uri = f"{ORIGIN}/c/energy/roles/{n}"
    return {
        "id": uri,
        "type": "Page",
        "name": name,
        "koers:role": True,
        "koers:fillMode": fill_mode,
        "content": kw.pop("content", ""),
        "koers:competencies": kw.pop("competencies", []),
        "koers:holders": {"id": f"{uri}/holders", "type": "Collection", "items": holders},
        "koers:termDays": kw.pop("term_days", None),
        "koers:terms": kw.pop("terms", []),
        **kw,
    }


async def _setup(instance) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Group energy@a.example:8080 with three roles, one held by its member dirk: (group, community, dirk)."""
    now = clock.now()
    async with instance.db.write() as conn:
        ids = []
        for username, kind in (("energy", "group"), ("dirk", "person")):
            path = "communities" if kind == "group" else "users"
            res = await conn.execute(
                t.actors.insert().values(
                    uri=f"{ORIGIN}/{path}/{username}",
                    url=f"{ORIGIN}/@{username}",
                    kind=kind,
                    username=username,
                    domain=HOST,
                    display_name=username.title(),
                    inbox=f"{ORIGIN}/{path}/{username}/inbox",
                    created_at=now,
                    updated_at=now,
                )
            )
            ids.append(int(res.inserted_primary_key[0]))
        group_id, dirk = ids
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=group_id, name="Energy Co-op", local=False, created_at=now
            )
        )
        community_id = int(res.inserted_primary_key[0])
        dirk_uri = f"{ORIGIN}/users/dirk"
        docs = [
            _role(
                1,
                "Event host",
                "open",
                [dirk_uri],
                term_days=30,
                competencies=[{"name": "hosting", "koers:level": "some"}],
                content="<p>Hosts the <b>drinks</b></p><script>alert(1)</script>",
                terms=[
                    {
                        "koers:holder": dirk_uri,
                        "startTime": iso(now - timedelta(days=31)),
                        "koers:endsAt": iso(now - timedelta(days=1)),
                    }
                ],
            ),
            _role(2, "Data analyst", "approval", []),
            _role(3, "Roadmap owner", "assigned", []),
        ]
        for doc in role_sync.usable_roles(docs, f"{ORIGIN}/communities/energy"):
            await role_sync.store_remote_role(conn, community_id, doc, {dirk_uri: dirk})
    return group_id, community_id, dirk


async def _role_id(instance, n: int) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(t.roles.c.id).where(t.roles.c.uri == f"{ORIGIN}/c/energy/roles/{n}")
                )
            ).scalar_one()
        )


async def _join(instance, member_id: int, group_id: int) -> None:  # type: ignore[no-untyped-def]
    async with instance.db.write() as conn:
        await conn.execute(
            t.follows.insert().values(
                follower_id=member_id, target_id=group_id, state="accepted", created_at=clock.now()
            )
        )


async def _sent(instance, kind: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.activities.c.document).where(
                t.activities.c.direction == "out", t.activities.c.type == kind
            )
        )
        return [r[0] for r in rows]


async def test_visitors_see_the_remote_roles_with_holders_and_terms(instance) -> None:  # type: ignore[no-untyped-def]
    await _setup(instance)
    resp = await (await instance.new_client()).get(PAGE + "/roles")
    assert resp.status == 200
    html = await resp.text()
    assert (
        "<h1>Roles in Energy Co-op</h1>" in html
        and 'href="/c/energy@a.example:8080/purpose"' in html
    )
    assert "Event host" in html and "Data analyst" in html and "Roadmap owner" in html
    assert (
        "Open: any member may claim it" in html
        and "By approval of a manager" in html
        and "hosting (some)" in html
    )
    assert f"@dirk@{HOST}" in html and "term ended" in html and "up for reconsideration" in html
    assert "<b>drinks</b>" in html and "<script>" not in html
    assert "Claim this role" not in html
    assert (await instance.client.get("/c/nobody@a.example:8080/roles")).status == 404


async def test_member_claims_and_withdraws_a_remote_role(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _, _ = await _setup(instance)
    bob = await instance.create_member("bob")
    client = await instance.login("bob")
    host, analyst, owner = [await _role_id(instance, n) for n in (1, 2, 3)]

    # Not a member yet: refused, nothing written or sent.
    resp = await post_form(client, f"{PAGE}/roles/{host}/claim", {}, page=PAGE + "/roles")
    assert resp.status == 403 and "join the community" in await resp.text()
    assert await _sent(instance, "Join") == []

    await _join(instance, bob.actor_id, group_id)
    html = await (await client.get(PAGE + "/roles")).text()
    assert "Claim this role" in html and "Ask for this role" in html
    resp = await post_form(client, f"{PAGE}/roles/{host}/claim", {}, page=PAGE + "/roles")
    assert resp.status == 302
    [join] = await _sent(instance, "Join")
    assert join["object"] == f"{ORIGIN}/c/energy/roles/1" and join["actor"].endswith("/users/bob")
    assert "Your claim is waiting for an answer" in await (await client.get(PAGE + "/roles")).text()
    resp = await post_form(client, f"{PAGE}/roles/{host}/claim", {}, page=PAGE + "/roles")
    assert resp.status == 409

    # Assigned roles are not claimed; withdrawing sends a Leave and the claim is gone.
    resp = await post_form(client, f"{PAGE}/roles/{owner}/claim", {}, page=PAGE + "/roles")
    assert resp.status == 403 and "assigned by the community managers" in await resp.text()
    resp = await post_form(client, f"{PAGE}/roles/{host}/release", {}, page=PAGE + "/roles")
    assert resp.status == 302
    [leave] = await _sent(instance, "Leave")
    assert leave["object"] == f"{ORIGIN}/c/energy/roles/1"
    async with instance.db.read() as conn:
        assert (
            await conn.execute(
                sa.select(t.role_holders).where(t.role_holders.c.actor_id == bob.actor_id)
            )
        ).first() is None
    assert (
        await post_form(client, f"{PAGE}/roles/{analyst}/release", {}, page=PAGE + "/roles")
    ).status == 404
    assert (
        await post_form(client, f"{PAGE}/roles/999999/claim", {}, page=PAGE + "/roles")
    ).status == 404


async def test_a_refresh_follows_the_origin_and_keeps_pending_claims(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id, dirk = await _setup(instance)
    bob = await instance.create_member("bob")
    await _join(instance, bob.actor_id, group_id)
    analyst = await _role_id(instance, 2)
    client = await instance.login("bob")
    assert (
        await post_form(client, f"{PAGE}/roles/{analyst}/claim", {}, page=PAGE + "/roles")
    ).status == 302
    # The origin now says: dirk gave up hosting, the analyst role was renamed and has no holder yet.
    async with instance.db.write() as conn:
        await role_sync.store_remote_role(
            conn, community_id, _role(1, "Event host", "open", []), {}
        )
        await role_sync.store_remote_role(
            conn, community_id, _role(2, "Data lead", "approval", []), {}
        )
    html = await (await client.get(PAGE + "/roles")).text()
    assert "Data lead" in html and "Data analyst" not in html and f"@dirk@{HOST}" not in html
    assert "Your claim is waiting for an answer" in html


async def test_a_role_of_another_community_is_not_changed(instance) -> None:  # type: ignore[no-untyped-def]
    _, community_id, _ = await _setup(instance)
    now = clock.now()
    async with instance.db.write() as conn:
        other = await conn.execute(
            t.actors.insert().values(
                uri=f"{ORIGIN}/communities/kitchen",
                kind="group",
                username="kitchen",
                domain=HOST,
                inbox=f"{ORIGIN}/communities/kitchen/inbox",
                created_at=now,
                updated_at=now,
            )
        )
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=other.inserted_primary_key[0], name="Kitchen", local=False, created_at=now
            )
        )
        kitchen = int(res.inserted_primary_key[0])
        # Energy's role 1, sent as if it were the kitchen's: refused, energy's copy unchanged.
        assert (
            await role_sync.store_remote_role(conn, kitchen, _role(1, "Taken over", "open", []), {})
            is None
        )
    html = await (await instance.client.get(PAGE + "/roles")).text()
    assert "Event host" in html and "Taken over" not in html and f"@dirk@{HOST}" in html
