"""A member on B takes part in A's community from B's web page /c/{handle}@{host}: found through the
remote-interaction lookup, joined (member once A's Accept arrives), its purpose and posts shown,
the purpose endorsed (A records it) and an event RSVPed (A records the Join)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from server import clock
from server.services import (
    communities,
    posts,
    purpose,
    purpose_endorsements,
    remote_communities,
)
from server.services import (
    community_events as events,
)
from server.services.posts import viewer_for_actor
from tests.conftest import post_form
from tests.federation.e2e_helpers import actor_on, pump

pytestmark = pytest.mark.slow


async def test_member_on_b_takes_part_from_bs_page(make_instance) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    alice = await a.create_member("alice")
    bob = await b.create_member("bob")
    energy = await communities.create_community(
        a.ctx,
        alice.actor_id,
        handle="energy",
        name="Energy Co-op",
        purpose_text="Power the street with the sun",
    )
    client = await b.login("bob")
    page = f"/c/energy@{a.settings.domain}"

    # Looking the community up on B leads to its page here.
    found = await client.get(
        f"/authorize_interaction?uri={quote(a.url + '/communities/energy', safe='')}",
        allow_redirects=False,
    )
    assert found.status == 302 and found.headers["Location"] == page
    html = await (await client.get(page)).text()
    assert "Energy Co-op" in html and f'href="{a.url}/c/energy"' in html

    # Join from B's page: pending, then a member once A's Accept arrived.
    res = await post_form(client, page + "/join", {}, page=page)
    assert res.status == 302
    assert "waiting for an answer" in await (await client.get(page)).text()
    await pump(a, b)
    assert "You are a member." in await (await client.get(page)).text()
    bob_on_a = await actor_on(a, f"{b.url}/users/bob")
    async with a.db.read() as conn:
        assert await communities.membership(conn, energy, bob_on_a) == "accepted"

    # A's new purpose version, a community post and an event reach B's page.
    await purpose.change_purpose(
        a.ctx, alice.actor_id, energy.id, "Power the whole district with the sun", "growing"
    )
    await posts.create_post(
        a.ctx,
        alice.actor_id,
        posts.Draft(
            source="Panels arrive Friday",
            audience=posts.Audience("community"),
            community_id=energy.id,
        ),
    )
    event_id = await events.create_event(
        a.ctx,
        alice.actor_id,
        energy.id,
        events.EventInput(
            title="Roof survey",
            starts_at=(clock.now() + timedelta(days=2)).replace(microsecond=0),
            place_name="Hall",
        ),
    )
    await pump(a, b)
    html = await (await client.get(page)).text()
    assert "Power the whole district with the sun" in html and "Panels arrive Friday" in html
    assert "Roof survey" in html and f'in <a href="{page}">Energy Co-op</a>' in html
    # Not shown to someone on B who is not a member: the post was for community members only.
    assert "Panels arrive Friday" not in await (await (await b.new_client()).get(page)).text()

    # Endorse from B's page: A records bob's endorsement of version 2.
    res = await post_form(client, page + "/endorse", {}, page=page)
    assert res.status == 302
    await pump(a, b)
    async with a.db.read() as conn:
        state = await purpose_endorsements.endorsements(
            conn, a.ctx, await viewer_for_actor(conn, alice.actor_id), energy.id
        )
    assert state is not None and bob_on_a in {m.id for m in state.endorsed}

    # RSVP from B's page: A has bob joined; once its Accept arrives B says so too.
    async with b.db.read() as conn:
        remote_event = (
            await events.events_of(
                conn, await viewer_for_actor(conn, bob.actor_id), (await communities_on(b, page)).id
            )
        )[0]
    res = await post_form(client, f"{page}/events/{remote_event.id}/join", {}, page=page)
    assert res.status == 302
    await pump(a, b)
    async with a.db.read() as conn:
        assert await events.state_of(conn, event_id, bob_on_a) == "joined"
    assert "You are going" in await (await client.get(page)).text()


async def communities_on(inst, page: str):  # type: ignore[no-untyped-def]
    """The remote community row behind ``/c/{handle}@{host}`` on ``inst``."""
    handle, _, host = page.removeprefix("/c/").partition("@")
    async with inst.db.read() as conn:
        return (await remote_communities.find(conn, handle, host)).community
