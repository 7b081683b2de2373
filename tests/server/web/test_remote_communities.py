"""The page of a community hosted on another instance (/c/{handle}@{host}), on both backends.

The remote Group and what it federated (a purpose version, an event, a post) are written directly;
the multi-instance flow is in tests/federation/test_e2e_remote_community_pages.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import clock
from server.services import posts
from server.storage import schema as t
from tests.conftest import post_form

HOST = "a.example:8080"
PAGE = f"/c/energy@{HOST}"


async def _remote_community(instance) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A Group ``energy`` on a.example:8080 with purpose version 1 and an upcoming event: (group, community, event)."""
    now = clock.now()
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri=f"http://{HOST}/communities/energy",
                url=f"http://{HOST}/c/energy",
                kind="group",
                username="energy",
                domain=HOST,
                display_name="Energy Co-op",
                inbox=f"http://{HOST}/communities/energy/inbox",
                created_at=now,
                updated_at=now,
            )
        )
        group_id = int(res.inserted_primary_key[0])
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=group_id,
                name="Energy Co-op",
                description_html="<p>Solar roofs</p>",
                local=False,
                created_at=now,
            )
        )
        community_id = int(res.inserted_primary_key[0])
        await conn.execute(
            t.purpose_versions.insert().values(
                community_id=community_id,
                version=1,
                text_source="Power the street with the sun",
                text_html="<p>Power the street with the sun</p>",
                uri=f"http://{HOST}/c/energy/purpose/1",
                created_at=now,
            )
        )
        res = await conn.execute(
            t.events.insert().values(
                community_id=community_id,
                title="Panel workshop",
                starts_at=now + timedelta(days=3),
                uri=f"http://{HOST}/c/energy/events/1",
                join_mode="free",
                audience="public",
                created_at=now,
                updated_at=now,
            )
        )
        event_id = int(res.inserted_primary_key[0])
    return group_id, community_id, event_id


async def _count(instance, table: sa.Table) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def _state(instance, follower_id: int, group_id: int) -> str | None:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.follows.c.state).where(
                    t.follows.c.follower_id == follower_id, t.follows.c.target_id == group_id
                )
            )
        ).scalar()


async def test_remote_community_page_and_taking_part(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id, event_id = await _remote_community(instance)
    bob = await instance.create_member("bob")
    anon = await instance.new_client()
    page = await anon.get(PAGE)
    html = await page.text()
    assert page.status == 200
    assert (
        "Energy Co-op" in html
        and "Power the street with the sun" in html
        and "Panel workshop" in html
    )
    assert f'href="http://{HOST}/c/energy"' in html and "Log in" in html

    client = await instance.login("bob")
    # Endorsing needs membership: refused, nothing written, nothing sent.
    deliveries = await _count(instance, t.deliveries)
    res = await post_form(client, PAGE + "/endorse", {}, page=PAGE)
    assert res.status == 403 and await _count(instance, t.purpose_endorsements) == 0

    res = await post_form(client, PAGE + "/join", {}, page=PAGE)
    assert res.status == 302 and res.headers["Location"] == PAGE
    assert await _state(instance, bob.actor_id, group_id) == "pending"
    assert (
        await _count(instance, t.deliveries) > deliveries
    )  # the Follow is on its way to a.example
    assert "waiting for an answer from a.example:8080" in await (await client.get(PAGE)).text()

    # The Group's Accept arrives (written directly here): a member, who may endorse and RSVP.
    async with instance.db.write() as conn:
        await conn.execute(
            t.follows.update()
            .where(t.follows.c.follower_id == bob.actor_id)
            .values(state="accepted")
        )
    html = await (await client.get(PAGE)).text()
    assert "You are a member." in html and "Endorse" in html
    res = await post_form(client, PAGE + "/endorse", {}, page=PAGE)
    assert res.status == 302
    async with instance.db.read() as conn:
        endorsers = (
            (await conn.execute(sa.select(t.purpose_endorsements.c.actor_id))).scalars().all()
        )
    assert endorsers == [bob.actor_id]
    assert "You endorse this version" in await (await client.get(PAGE)).text()

    res = await post_form(client, f"{PAGE}/events/{event_id}/join", {}, page=PAGE)
    assert res.status == 302
    async with instance.db.read() as conn:
        rsvp = (
            await conn.execute(
                sa.select(t.event_participants.c.state).where(
                    t.event_participants.c.actor_id == bob.actor_id
                )
            )
        ).scalar()
    assert rsvp == "pending"  # until the remote Group accepts the Join
    assert "Your place is asked for" in await (await client.get(PAGE)).text()

    # A post of the member to the community links to this page from its "in <community>" label.
    await posts.create_post(
        instance.ctx,
        bob.actor_id,
        posts.Draft(
            source="Who has a ladder?",
            audience=posts.Audience("community"),
            community_id=community_id,
        ),
    )
    html = await (await client.get(PAGE)).text()
    assert "Who has a ladder?" in html and f'in <a href="{PAGE}">Energy Co-op</a>' in html
    assert "Energy Co-op (a.example:8080)" in await (await client.get("/compose")).text()

    res = await post_form(client, PAGE + "/leave", {}, page=PAGE)
    assert res.status == 302 and await _state(instance, bob.actor_id, group_id) is None


@pytest.mark.parametrize(
    "path", ["/c/energy@b.example", "/c/nobody@a.example:8080", "/c/energy@a.example:8080/x"]
)
async def test_unknown_remote_community_is_404(instance, path: str) -> None:  # type: ignore[no-untyped-def]
    await _remote_community(instance)
    assert (await (await instance.new_client()).get(path)).status == 404


async def test_bad_posts_write_nothing(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _, event_id = await _remote_community(instance)
    bob = await instance.create_member("bob")
    client = await instance.login("bob")
    no_csrf = await client.post(PAGE + "/join", data={}, allow_redirects=False)
    assert no_csrf.status in (400, 403) and await _state(instance, bob.actor_id, group_id) is None
    unknown = await post_form(client, "/c/energy@b.example/join", {}, page=PAGE)
    assert unknown.status == 404 and await _count(instance, t.follows) == 0
    no_event = await post_form(client, f"{PAGE}/events/{event_id + 99}/join", {}, page=PAGE)
    no_csrf_rsvp = await client.post(
        f"{PAGE}/events/{event_id}/join", data={}, allow_redirects=False
    )
    assert no_event.status == 404 and no_csrf_rsvp.status in (400, 403)
    assert await _count(instance, t.event_participants) == 0
    anon = await (await instance.new_client()).post(
        PAGE + "/endorse", data={}, allow_redirects=False
    )
    assert (
        anon.status in (302, 303, 401, 403) and await _count(instance, t.purpose_endorsements) == 0
    )


async def test_communities_page_lists_remote_communities_members_joined(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _, _ = await _remote_community(instance)
    bob = await instance.create_member("bob")
    anon = await instance.new_client()
    assert "Joined on partner instances" not in await (await anon.get("/communities")).text()
    client = await instance.login("bob")
    await post_form(client, PAGE + "/join", {}, page=PAGE)
    # Asked, not yet accepted: not listed.
    assert "Joined on partner instances" not in await (await anon.get("/communities")).text()
    async with instance.db.write() as conn:
        await conn.execute(
            t.follows.update()
            .where(t.follows.c.follower_id == bob.actor_id, t.follows.c.target_id == group_id)
            .values(state="accepted")
        )
    html = await (await anon.get("/communities")).text()
    assert "Joined on partner instances" in html and f'href="{PAGE}"' in html
    assert "1 member here" in html and "No communities yet" not in html
