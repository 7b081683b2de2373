"""Koers with a GoToSocial-like peer and a second Koers instance, all on loopback (issue 14):
first contact from accounts never looked up, complete profile updates, community posts shown
exactly once on every kind of receiver, and actor documents whose collections all answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from federation.actors import resolve_actor
from server.services import accounts, communities, posts, purpose_phases
from server.storage import schema as t
from tests.federation.e2e_helpers import (
    actor_on,
    competencies_on,
    follow_remote,
    follow_state,
    post_by_uri,
    pump,
)
from tests.federation.gotosocial_peer import AP, datetime_errors, start_peer

pytestmark = pytest.mark.slow


@pytest.fixture
async def gts():  # type: ignore[no-untyped-def]
    peer, server = await start_peer()
    yield peer
    await server.close()


async def _public_post(inst, actor_id: int, text: str, community_id: int | None = None) -> str:  # type: ignore[no-untyped-def]
    draft = posts.Draft(source=text, audience=posts.Audience("public"), community_id=community_id)
    pid = await posts.create_post(inst.ctx, actor_id, draft)
    async with inst.db.read() as conn:
        return (
            await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.id == pid))
        ).scalar_one()


async def test_first_contact_from_accounts_never_looked_up(make_instance, gts) -> None:
    a = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    alice_uri = f"{a.url}/users/alice"
    post_uri = await _public_post(a, alice.actor_id, "Compost workshop on Saturday")
    gina, hugo, ivy = gts.add_account("gina"), gts.add_account("hugo"), gts.add_account("ivy")
    assert "inbox" not in gts.key_document(gina)  # the cut-down document at the key id

    # Follow
    follow = gts.activity(gina, "Follow", object=alice_uri)
    status, text = await gts.post(f"{alice_uri}/inbox", follow, gina)
    assert status == 202, text
    await pump(a)
    gina_id = await actor_on(a, gina.uri)
    assert gina_id is not None
    assert await follow_state(a, gina_id, alice.actor_id) == "accepted"
    assert any(r["type"] == "Accept" for r in gts.received)

    # Mention
    mention = gts.status(
        hugo,
        '<p><span class="h-card"><a href="x">@alice</a></span> can I come?</p>',
        to=[alice_uri],
        tag=[{"type": "Mention", "href": alice_uri, "name": f"@alice@{a.settings.domain}"}],
    )
    status, text = await gts.post(
        f"{alice_uri}/inbox", gts.activity(hugo, "Create", object=mention, to=[alice_uri]), hugo
    )
    assert status == 202, text
    await pump(a)
    stored = await post_by_uri(a, mention["id"])
    assert stored is not None
    async with a.db.read() as conn:
        kinds = [
            r.type
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == alice.actor_id
                )
            )
        ]
    assert "mention" in kinds

    # Reply
    public = "https://www.w3.org/ns/activitystreams#Public"
    reply = gts.status(ivy, "<p>Count me in</p>", inReplyTo=post_uri, to=[public], cc=[alice_uri])
    status, text = await gts.post(
        f"{a.url}/inbox", gts.activity(ivy, "Create", object=reply, to=[public]), ivy
    )
    assert status == 202, text
    await pump(a)
    parent = await post_by_uri(a, post_uri)
    stored_reply = await post_by_uri(a, reply["id"])
    assert stored_reply is not None and stored_reply.in_reply_to_id == parent.id


async def test_signed_get_from_an_account_never_looked_up(make_instance, gts) -> None:
    secure = await make_instance(secure_mode=True)
    await secure.create_member("sam")
    jo = gts.add_account("jo")
    url = f"{secure.url}/users/sam"
    status, doc = await gts.get(url, jo)
    assert status == 200, doc
    assert doc["id"] == url
    assert await actor_on(secure, jo.uri) is not None  # the signer was believed and stored
    assert (await secure.client.get("/users/sam", headers={"Accept": AP})).status == 401


async def test_profile_change_arrives_complete(make_instance, gts) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    alice_uri = f"{a.url}/users/alice"
    gina = gts.add_account("gina")
    status, text = await gts.post(
        f"{alice_uri}/inbox", gts.activity(gina, "Follow", object=alice_uri), gina
    )
    assert status == 202, text
    on_b = await follow_remote(b, a, bob.actor_id, "/users/alice")
    await pump(a, b)

    await accounts.set_competencies(a.db, alice.actor_id, [("energy modelling", "expert")])
    await accounts.update_profile(
        a.db, alice.user_id, bio="Heat pumps and district heating", events=a.ctx.events
    )
    await pump(a, b)

    assert gts.refused == []
    profile = gts.profiles[alice_uri]
    assert "district heating" in profile["summary"]
    assert profile["publicKey"]["owner"] == alice_uri and profile["inbox"] == f"{alice_uri}/inbox"
    fields = {f["name"]: f["value"] for f in profile["attachment"]}
    assert fields["Competencies"] == "energy modelling (expert)"

    # The Koers follower refreshed alice: competencies from the structured term, no copy as a field.
    async with b.db.read() as conn:
        row = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == on_b))).one()
    assert "district heating" in row.summary_html
    assert [f["name"] for f in row.fields] == []
    assert await competencies_on(b, on_b) == [("energy modelling", "expert")]


@dataclass
class Followed:
    """A community on A followed from the GoToSocial-like peer (gina) and from B (bob)."""

    a: Any
    b: Any
    alice: Any
    garden: Any
    group_uri: str
    group_on_b: int


async def _community_followed_from_both(make_instance, gts) -> Followed:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    group_uri = f"{a.url}/communities/garden"
    gina = gts.add_account("gina")
    status, text = await gts.post(
        f"{group_uri}/inbox", gts.activity(gina, "Follow", object=group_uri), gina
    )
    assert status == 202, text
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    return Followed(a, b, alice, garden, group_uri, group_on_b)


async def test_group_update_arrives_complete(make_instance, gts) -> None:
    """The Group's Update when its purpose process moves carries the whole Group, key included."""
    f = await _community_followed_from_both(make_instance, gts)
    a, b, alice, garden, group_uri = f.a, f.b, f.alice, f.garden, f.group_uri

    await purpose_phases.set_phase(a.ctx, alice.actor_id, garden.id, "review")
    await pump(a, b)

    assert gts.refused == []
    group = gts.profiles[group_uri]
    assert group["publicKey"]["owner"] == group_uri and group["inbox"] == f"{group_uri}/inbox"
    assert group["name"] == "Garden" and group["preferredUsername"] == "garden"
    assert group["koers:purposePhase"]["koers:phase"] == "review"
    # the Koers member's instance still catches up with the phase from it
    async with b.db.read() as conn:
        community_on_b = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == f.group_on_b)
            )
        ).scalar_one()
        phase_on_b = await purpose_phases.current(conn, community_on_b)
    assert phase_on_b.phase == "review"


async def _copies(inst, uri: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(posts stored with ``uri``, boosts of it) on ``inst``."""
    async with inst.db.read() as conn:
        stored = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(t.posts).where(t.posts.c.uri == uri)
            )
        ).scalar_one()
        post_id = (await conn.execute(sa.select(t.posts.c.id).where(t.posts.c.uri == uri))).scalar()
        boosts = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.posts)
                .where(t.posts.c.reblog_of_id == post_id)
            )
        ).scalar_one()
    return int(stored), int(boosts)


async def test_community_post_reaches_each_kind_of_follower_once(make_instance, gts) -> None:
    f = await _community_followed_from_both(make_instance, gts)
    a, b, alice, garden, group_uri = f.a, f.b, f.alice, f.garden, f.group_uri
    # followable from GoToSocial: the Group accepts, and the peer hears so
    gina_on_a = await actor_on(a, f"{gts.base}/users/gina")
    assert await follow_state(a, gina_on_a, garden.actor_id) == "accepted"
    accepts = [r for r in gts.received if r["type"] == "Accept" and r["actor"] == group_uri]
    assert len(accepts) == 1

    first = await _public_post(a, alice.actor_id, "Seeds arrive Monday", community_id=garden.id)
    await pump(a, b)
    assert gts.boosts == [(group_uri, first)]  # a boost of the post, not of its Create
    assert gts.refused == []
    assert await _copies(b, first) == (1, 0)
    async with a.db.read() as conn:  # decided by the software each host's NodeInfo names
        software = dict(list(await conn.execute(sa.select(t.hosts.c.domain, t.hosts.c.software))))
    assert software[gts.base.split("//")[1]] == "gotosocial"
    assert software[b.settings.domain] == "koers"

    # An edit: the boost-only follower takes it from the author (as from nobody else), B as before.
    async with a.db.read() as conn:
        first_id = (
            await conn.execute(sa.select(t.posts.c.id).where(t.posts.c.uri == first))
        ).scalar_one()
    await posts.edit_post(a.ctx, alice.actor_id, first_id, source="Seeds arrive Tuesday")
    await pump(a, b)
    alice_uri = f"{a.url}/users/alice"
    edits = [r for r in gts.received if r["type"] == "Update"]
    assert [(r["actor"], r["object"]["id"]) for r in edits] == [(alice_uri, first)]
    assert "Tuesday" in (await post_by_uri(b, first)).content_html
    assert await _copies(b, first) == (1, 0)

    # Hosts whose software is not known get both forms; each still shows the post once.
    async with a.db.write() as conn:
        await conn.execute(sa.update(t.hosts).values(software=""))
    second = await _public_post(a, alice.actor_id, "Watering rota", community_id=garden.id)
    await pump(a, b)
    assert gts.boosts == [(group_uri, first), (group_uri, second)]
    assert [kind for kind, _reason in gts.refused] == ["Announce"]  # the Announce of the Create
    assert await _copies(b, second) == (1, 0)

    # A deleted post: the boost-only follower gets the author's Delete and the Undo of the boost.
    await posts.delete_post(a.ctx, alice.actor_id, first_id)
    await pump(a, b)
    undo = [r for r in gts.received if r["type"] == "Undo"]
    assert len(undo) == 1 and undo[0]["object"]["object"] == first
    deletes = [r for r in gts.received if r["type"] == "Delete"]
    assert [(r["actor"], r["object"]["id"]) for r in deletes] == [(alice_uri, first)]
    assert await post_by_uri(b, first) is None or (await post_by_uri(b, first)).deleted_at


async def test_every_collection_an_actor_document_names_answers(make_instance, gts) -> None:
    a = await make_instance()
    alice = await a.create_member("alice")
    await communities.create_community(
        a.ctx, alice.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    gina = gts.add_account("gina")
    walked = []
    for path in ("/users/alice", "/communities/garden", "/actor"):
        status, doc = await gts.get(a.url + path, gina)
        assert status == 200, doc
        assert datetime_errors(doc) == [], path  # dates with their zone, as AS2 requires
        named = {
            key: value
            for key, value in doc.items()
            if key in ("outbox", "followers", "following", "featured")
            or (key.startswith("koers:") and isinstance(value, str) and value.startswith(a.url))
        }
        assert {"outbox", "followers", "following", "featured"} <= set(named), path
        for key, url in named.items():
            status, collection = await gts.get(url, gina)
            assert status == 200, (path, key, url, collection)
            assert isinstance(collection, dict) and collection.get("id"), (path, key)
            walked.append(url)
    assert f"{a.url}/actor/featured" in walked and f"{a.url}/communities/garden/following" in walked


async def test_host_software_is_asked_once_and_again_when_it_was_not_known(instance, gts) -> None:
    gina = gts.add_account("gina")
    host = gts.base.split("//")[1]

    async def software() -> str | None:
        async with instance.db.read() as conn:
            return (
                await conn.execute(sa.select(t.hosts.c.software).where(t.hosts.c.domain == host))
            ).scalar()

    gts.serves_nodeinfo = False
    await resolve_actor(instance.app, gina.uri)
    assert await software() == ""  # asked, nothing published: both relay forms for now
    gts.serves_nodeinfo = True
    await resolve_actor(instance.app, gina.uri)  # fresh: not refetched, not asked again
    assert await software() == ""
    await resolve_actor(instance.app, gina.uri, refresh=True)
    assert await software() == "gotosocial"
