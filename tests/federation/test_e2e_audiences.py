"""Each audience reaches exactly the right people on the other instances, and nowhere else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server import clock
from server.services import posts
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from server.visibility import can_see_post
from tests.federation.e2e_helpers import follow_remote, post_by_uri, pump

pytestmark = pytest.mark.slow


async def _can_see(inst, actor_id: int, post_id: int) -> bool:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return await can_see_post(conn, await viewer_for_actor(conn, actor_id), post_id)


async def test_each_audience_reaches_exactly_its_people(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)  # a partner of a
    c = await make_instance(run_workers=False)  # not a partner
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    bea = await b.create_member("bea")  # on the partner host, follows nobody
    carol = await c.create_member("carol")
    await follow_remote(b, a, bob.actor_id, "/users/alice")
    await follow_remote(c, a, carol.actor_id, "/users/alice")
    await pump(a, b, c)
    async with a.db.write() as conn:
        await conn.execute(
            t.partners.insert().values(
                domain=b.settings.domain, name="B", state="active", created_at=clock.now()
            )
        )

    async def publish(audience: str, text: str) -> str:
        pid = await posts.create_post(
            a.ctx, alice.actor_id, posts.Draft(source=text, audience=posts.Audience(audience))
        )
        await pump(a, b, c)
        return f"{a.url}/users/alice/posts/{pid}"

    public = await publish("public", "for everyone")
    followers = await publish("followers", "for followers")
    partners = await publish("partners", "for partners")
    members = await publish("members", "only for our organisation")
    direct = await publish("direct", f"just for @bob@{b.settings.domain}")

    for uri, on_b, on_c in [
        (public, True, True),
        (followers, True, True),
        (partners, True, False),
        (members, False, False),
        (direct, True, False),
    ]:
        got_b, got_c = await post_by_uri(b, uri), await post_by_uri(c, uri)
        assert (got_b is not None, got_c is not None) == (on_b, on_c), uri
    on_b = {uri: await post_by_uri(b, uri) for uri in (public, followers, partners, direct)}
    assert on_b[public].audience == "public" and on_b[followers].audience == "followers"
    assert on_b[partners].audience == "partners" and on_b[direct].audience == "direct"
    # On the receiving side the same policy decides who sees what.
    assert await _can_see(b, bob.actor_id, on_b[direct].id)
    assert not await _can_see(b, bea.actor_id, on_b[direct].id)
    assert await _can_see(b, bob.actor_id, on_b[followers].id)
    assert not await _can_see(b, bea.actor_id, on_b[followers].id)
    assert await _can_see(
        b, bea.actor_id, on_b[partners].id
    )  # partners: every member of a partner org

    # Nothing was ever queued for the members-only post.
    async with a.db.read() as conn:
        queued = [
            r[0]
            for r in await conn.execute(
                sa.select(t.activities.c.document).where(t.activities.c.direction == "out")
            )
        ]
    assert not any("only for our organisation" in str(doc) for doc in queued)


async def test_object_documents_follow_the_policy(make_instance) -> None:
    a = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    public = await posts.create_post(
        a.ctx, alice.actor_id, posts.Draft(source="hello", audience=posts.Audience("public"))
    )
    secret = await posts.create_post(
        a.ctx, alice.actor_id, posts.Draft(source="psst", audience=posts.Audience("followers"))
    )
    gone = await posts.create_post(a.ctx, alice.actor_id, posts.Draft(source="oops"))
    await posts.delete_post(a.ctx, alice.actor_id, gone)
    ap = {"Accept": "application/activity+json"}
    resp = await a.client.get(f"/users/alice/posts/{public}", headers=ap)
    assert resp.status == 200 and (await resp.json())["content"].startswith("<p>hello")
    assert (await a.client.get(f"/users/alice/posts/{secret}", headers=ap)).status == 404
    resp = await a.client.get(f"/users/alice/posts/{gone}", headers=ap)
    assert resp.status == 410 and (await resp.json())["type"] == "Tombstone"
    resp = await a.client.get(
        f"/users/alice/posts/{public}", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == f"/@alice/{public}"
    outbox = await (await a.client.get("/users/alice/outbox?page=1", headers=ap)).json()
    assert [item["object"]["content"][:8] for item in outbox["orderedItems"]] == ["<p>hello"]
