"""Inbox handlers on crafted activities: reports, role changes by strangers, likes of hidden posts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from federation.errors import Ignore
from server import clock
from server.activitypub.posts import inbound as incoming_posts
from server.activitypub.social import activities as incoming_social
from server.services import communities, posts, roles
from server.storage import schema as t

REMOTE = "https://elsewhere.example/users/eve"


async def _remote(inst, uri: str = REMOTE) -> int:  # type: ignore[no-untyped-def]
    now = clock.now()
    async with inst.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri=uri,
                kind="person",
                username=uri.rsplit("/", 1)[-1],
                domain="elsewhere.example",
                inbox=uri + "/inbox",
                followers_url=uri + "/followers",
                key_id=uri + "#key",
                public_key_pem="x",
                fields=[],
                extra={},
                created_at=now,
                updated_at=now,
                fetched_at=now,
            )
        )
        return int(res.inserted_primary_key[0])


async def test_flag_makes_a_report_for_managers_and_admins(instance) -> None:
    admin = await instance.create_member("boss", admin=True)
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    pid = await posts.create_post(
        instance.ctx,
        alice.actor_id,
        posts.Draft(source="spam?", audience=posts.Audience("public"), community_id=garden.id),
    )
    eve = await _remote(instance)
    flag = {
        "id": REMOTE + "#flags/1",
        "type": "Flag",
        "actor": REMOTE,
        "content": "looks like spam",
        "object": [f"{instance.url}/users/alice", f"{instance.url}/users/alice/posts/{pid}"],
    }
    await incoming_social.on_flag(instance.app, flag, eve)
    async with instance.db.read() as conn:
        report = (await conn.execute(sa.select(t.reports))).one()
        told = {
            r[0]
            for r in await conn.execute(
                sa.select(t.notifications.c.actor_id).where(
                    t.notifications.c.type == "koers.report"
                )
            )
        }
    assert (
        report.comment == "looks like spam"
        and report.post_ids == [pid]
        and report.community_id == garden.id
    )
    assert told == {admin.actor_id, alice.actor_id}


async def test_strangers_cannot_change_role_holders_or_like_hidden_posts(instance) -> None:
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    role_id = await roles.create_role(instance.ctx, alice.actor_id, garden.id, name="Seed keeper")
    eve = await _remote(instance)
    add = {
        "id": REMOTE + "#add",
        "type": "Add",
        "actor": REMOTE,
        "object": REMOTE,
        "target": f"{instance.url}/c/garden/roles/{role_id}/holders",
    }
    with pytest.raises(Ignore) as exc:
        await incoming_posts.on_add_remove(instance.app, add, eve)
    assert exc.value.reason == "not_manager"
    hidden = await posts.create_post(
        instance.ctx,
        alice.actor_id,
        posts.Draft(source="psst", audience=posts.Audience("followers")),
    )
    like = {
        "id": REMOTE + "#like",
        "type": "Like",
        "actor": REMOTE,
        "object": f"{instance.url}/users/alice/posts/{hidden}",
    }
    with pytest.raises(Ignore) as exc:
        await incoming_social.on_favourite(instance.app, like, eve)
    assert exc.value.reason == "not_visible"
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.role_holders))
        ).scalar_one() == 0
        assert (
            await conn.execute(sa.select(t.posts.c.favourites_count).where(t.posts.c.id == hidden))
        ).scalar_one() == 0


async def test_signer_must_be_the_actor(instance) -> None:
    alice = await instance.create_member("alice")
    await _remote(instance)
    other = await _remote(instance, "https://elsewhere.example/users/mallory")
    follow = {
        "id": REMOTE + "#f",
        "type": "Follow",
        "actor": REMOTE,
        "object": f"{instance.url}/users/alice",
    }
    with pytest.raises(Ignore):
        await incoming_social.on_follow(instance.app, follow, other)
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(t.follows).where(t.follows.c.target_id == alice.actor_id))
        ).first() is None


async def test_outsiders_posts_to_a_closed_community(instance) -> None:
    alice = await instance.create_member("alice")
    await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="circle",
        name="Circle",
        purpose_text="Decide together",
        openness="approval",
    )
    eve = await _remote(instance)
    group = f"{instance.url}/communities/circle"

    def create(n: int, to: list[str]) -> dict:
        note = {
            "id": f"{REMOTE}/notes/{n}",
            "type": "Note",
            "attributedTo": REMOTE,
            "content": "<p>hello</p>",
            "to": to,
            "cc": [group],
        }
        return {
            "id": f"{REMOTE}/notes/{n}/activity",
            "type": "Create",
            "actor": REMOTE,
            "object": note,
        }

    with pytest.raises(Ignore) as exc:
        await incoming_posts.on_create(instance.app, create(1, [group]), eve)
    assert exc.value.reason == "not_member"
    await incoming_posts.on_create(
        instance.app, create(2, ["https://www.w3.org/ns/activitystreams#Public"]), eve
    )
    async with instance.db.read() as conn:
        rows = (
            await conn.execute(sa.select(t.posts.c.uri, t.posts.c.community_id, t.posts.c.audience))
        ).all()
    assert [tuple(r) for r in rows] == [(f"{REMOTE}/notes/2", None, "public")]


async def test_remote_group_moderators_become_its_managers(instance) -> None:
    group_uri = "https://elsewhere.example/c/main"
    now = clock.now()
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri=group_uri,
                kind="group",
                username="main",
                domain="elsewhere.example",
                inbox=group_uri + "/inbox",
                followers_url=group_uri + "/followers",
                key_id=group_uri + "#key",
                public_key_pem="x",
                fields=[],
                extra={},
                created_at=now,
                updated_at=now,
                fetched_at=now,
            )
        )
        group_id = int(res.inserted_primary_key[0])
    eve = await _remote(instance)
    add = {
        "id": group_uri + "/add/1",
        "type": "Add",
        "actor": group_uri,
        "object": REMOTE,
        "target": group_uri + "/moderators",
    }
    with pytest.raises(Ignore):  # eve cannot make herself a moderator
        await incoming_posts.on_add_remove(instance.app, {**add, "actor": REMOTE}, eve)
    await incoming_posts.on_add_remove(instance.app, add, group_id)
    async with instance.db.read() as conn:
        managers = [r[0] for r in await conn.execute(sa.select(t.community_managers.c.actor_id))]
    assert managers == [eve]
