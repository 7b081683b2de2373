"""A manager on partner B manages A's community from B's own pages: approves and declines join
requests and moves roadmap items; A applies only what a manager signed."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from server import clock
from server.activitypub.core import convert
from server.services import communities, posts, roadmap
from server.storage import schema as t
from server.visibility import Audience
from tests.conftest import post_form
from tests.federation.e2e_helpers import follow_remote, follow_state, pump

pytestmark = pytest.mark.slow


async def _setup(make_instance):  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob, carl, dora = [await b.create_member(n) for n in ("bob", "carl", "dora")]
    garden = await communities.create_community(
        a.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow",
        openness="approval",
    )
    item = await roadmap.create_item(
        a.ctx, alice.actor_id, garden.id, title="Seed library", status="planned"
    )
    async with a.db.write() as conn:
        await conn.execute(
            t.partners.insert().values(
                domain=b.settings.domain, name="B org", state="active", created_at=clock.now()
            )
        )
    group_on_b = await follow_remote(b, a, bob.actor_id, "/communities/garden")
    await pump(a, b)
    async with a.db.read() as conn:
        bob_on_a = (
            await conn.execute(
                sa.select(t.actors.c.id).where(t.actors.c.uri == f"{b.url}/users/bob")
            )
        ).scalar_one()
    await communities.approve_join(a.ctx, alice.actor_id, garden.id, bob_on_a)
    await communities.add_manager(a.ctx, alice.actor_id, garden.id, bob_on_a)
    await pump(a, b)
    return a, b, alice, bob, carl, dora, garden, item, group_on_b


async def test_partner_manager_decides_join_requests_and_roadmap_status(make_instance) -> None:
    a, b, alice, bob, carl, dora, garden, item, group_on_b = await _setup(make_instance)
    async with b.db.read() as conn:
        garden_on_b = (
            await conn.execute(
                sa.select(t.communities.c.id).where(t.communities.c.actor_id == group_on_b)
            )
        ).scalar_one()
        assert (
            await conn.execute(
                sa.select(t.follows.c.state).where(t.follows.c.follower_id == bob.actor_id)
            )
        ).scalar() == "accepted"
    await follow_remote(b, a, carl.actor_id, "/communities/garden")
    await follow_remote(b, a, dora.actor_id, "/communities/garden")
    await pump(a, b)

    client = await b.login("bob")
    overview = await (await client.get(f"/c/garden@{a.settings.domain}")).text()
    assert (
        f'href="/c/garden@{a.settings.domain}/manage"' in overview
    )  # the navigation leads managers there
    page = await client.get(f"/c/garden@{a.settings.domain}/manage")
    html = await page.text()
    assert page.status == 200, html
    assert "carl" in html and "dora" in html
    forms = dict(
        re.findall(
            r'name="follow_id" value="([^"]+)"><input type="hidden" name="actor" value="([^"]+)"',
            html,
        )
    )
    by_actor = {v: k for k, v in forms.items()}
    carl_uri, dora_uri = f"{b.url}/users/carl", f"{b.url}/users/dora"
    for actor, decision in ((carl_uri, "accept"), (dora_uri, "reject")):
        resp = await post_form(
            client,
            f"/c/garden@{a.settings.domain}/manage/requests",
            {"follow_id": by_actor[actor], "actor": actor, "decision": decision},
            page=f"/c/garden@{a.settings.domain}/manage",
        )
        assert resp.status == 302, await resp.text()
    await pump(a, b)
    assert await follow_state(b, carl.actor_id, group_on_b) == "accepted"
    assert await follow_state(b, dora.actor_id, group_on_b) is None
    assert (
        "Nobody is waiting"
        in await (await client.get(f"/c/garden@{a.settings.domain}/manage")).text()
    )

    # The roadmap item (B's copy, from the catch-up) moved by bob from B; A records bob as the changer.
    async with b.db.read() as conn:
        copy = (
            await conn.execute(
                sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.community_id == garden_on_b)
            )
        ).scalar_one()
    resp = await post_form(
        client,
        f"/c/garden@{a.settings.domain}/manage/roadmap/{copy}",
        {"status": "in_progress", "note": "Started at the library"},
        page=f"/c/garden@{a.settings.domain}/manage",
    )
    assert resp.status == 302, await resp.text()
    await pump(a, b)
    async with a.db.read() as conn:
        status = (
            await conn.execute(
                sa.select(t.roadmap_items.c.status).where(t.roadmap_items.c.id == item)
            )
        ).scalar_one()
        last = (
            await conn.execute(
                sa.select(t.roadmap_status_changes.c.note, t.roadmap_status_changes.c.actor_id)
                .where(t.roadmap_status_changes.c.item_id == item)
                .order_by(t.roadmap_status_changes.c.id.desc())
            )
        ).first()
        bob_on_a = (
            await conn.execute(
                sa.select(t.actors.c.id).where(t.actors.c.uri == f"{b.url}/users/bob")
            )
        ).scalar_one()
    assert status == "in_progress" and tuple(last) == ("Started at the library", bob_on_a)
    async with b.db.read() as conn:
        assert (
            await conn.execute(
                sa.select(t.roadmap_items.c.status).where(t.roadmap_items.c.id == copy)
            )
        ).scalar_one() == "in_progress"

    # The community's insights, read from A as the manager, on B's page.
    await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="Who brings seeds?", community_id=garden.id, audience=Audience.COMMUNITY
        ),
    )
    page = await client.get(f"/c/garden@{a.settings.domain}/insights")
    html = await page.text()
    assert page.status == 200, html
    assert "Insights: Garden" in html and "<svg" in html and f"@alice@{a.settings.domain}" in html
    # the period comparison, as the community's own page has it: this period's post against none before
    compare = html.split('id="compare"')[1].split("</table>")[0]
    assert "Compared with the previous period" in html and "weeks before it" in compare
    posts_row = compare.split('<th scope="row">Posts</th>')[1].split("</tr>")[0]
    assert '<td class="num">0</td>' in posts_row and 'class="num up">up ' in posts_row
    assert (await client.get(f"/c/garden@{a.settings.domain}/insights?weeks=5")).status == 422

    # An unknown status is refused on B with the form and nothing is sent.
    resp = await post_form(
        client,
        f"/c/garden@{a.settings.domain}/manage/roadmap/{copy}",
        {"status": "someday"},
        page=f"/c/garden@{a.settings.domain}/manage",
    )
    assert resp.status == 422 and "choose one of" in await resp.text()


async def test_non_managers_can_neither_see_nor_decide(make_instance) -> None:
    a, b, alice, bob, carl, dora, garden, item, group_on_b = await _setup(make_instance)
    await follow_remote(b, a, dora.actor_id, "/communities/garden")
    await follow_remote(b, a, carl.actor_id, "/communities/garden")
    await pump(a, b)
    client = await b.login("carl")
    assert "/manage" not in await (await client.get(f"/c/garden@{a.settings.domain}")).text()
    assert (await client.get(f"/c/garden@{a.settings.domain}/manage")).status == 403
    # A signed fetch of the requests collection by a non-manager is answered 404.
    from federation.actors import fetch_signed
    from federation.errors import FederationError

    for what in ("requests", "insights"):
        with pytest.raises(FederationError):
            await fetch_signed(
                b.app, f"{a.url}/communities/garden/{what}", as_actor=carl.actor_id, refresh=True
            )
    assert (await client.get(f"/c/garden@{a.settings.domain}/insights")).status == 403
    # carl (no manager) sends his own Accept of dora's request straight to the Group: A ignores it.
    from federation.delivery import enqueue, inboxes_for

    async with b.db.write() as conn:
        doc = convert.activity(
            b.ctx.base,
            "Accept",
            id=f"{b.url}/users/carl#forged",
            actor=f"{b.url}/users/carl",
            object={
                "id": f"{b.url}/x",
                "type": "Follow",
                "actor": f"{b.url}/users/dora",
                "object": f"{a.url}/communities/garden",
            },
            to=[f"{a.url}/communities/garden"],
        )
        await enqueue(
            conn,
            activity=doc,
            actor_id=carl.actor_id,
            inboxes=await inboxes_for(conn, [group_on_b]),
        )
    await pump(a, b)
    async with a.db.read() as conn:
        dora_on_a = (
            await conn.execute(
                sa.select(t.actors.c.id).where(t.actors.c.uri == f"{b.url}/users/dora")
            )
        ).scalar_one()
        state = (
            await conn.execute(
                sa.select(t.follows.c.state).where(t.follows.c.follower_id == dora_on_a)
            )
        ).scalar()
    assert state == "pending"


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"weeks": [], "people": []},
        {"weeks": ["2026-11-01"], "people": [{"account": "x"}]},
        {"weeks": ["2026-11-01"], "people": [], "weekly_activity": {"posts": ["many"]}},
        {"weeks": "2026", "people": []},
    ],
)
def test_unreadable_remote_insights_are_refused(raw) -> None:  # type: ignore[no-untyped-def]
    """Another server's insights document is read defensively: anything odd is an error the page explains."""
    from server.web.remote_manage import _readable_insights

    with pytest.raises((KeyError, TypeError, ValueError, AttributeError)):
        _readable_insights(raw)
