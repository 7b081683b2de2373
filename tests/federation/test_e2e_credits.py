"""A result on one instance credits a person on another: resolved by handle before the write,
mentioned so it reaches them, and kudos land in their notifications too."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.activitypub.core.handles import actor_ids_for_handles
from server.services import communities, kudos, posts
from server.storage import schema as t
from tests.federation.e2e_helpers import post_by_uri, pump

pytestmark = pytest.mark.slow


async def test_remote_contributor_is_credited_and_receives_kudos(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    ana = await a.create_member("ana")
    bob = await b.create_member("bob")
    garden = await communities.create_community(
        a.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food together"
    )
    credited = await actor_ids_for_handles(a.app, [f"@bob@{b.settings.domain}"])
    result = await posts.create_post(
        a.ctx,
        ana.actor_id,
        posts.Draft(
            source="Rain barrels installed",
            kind="result",
            community_id=garden.id,
            contributor_ids=credited,
        ),
    )
    await pump(a, b)
    copy = await post_by_uri(b, f"{a.url}/users/ana/posts/{result}")
    assert copy is not None and copy.kind == "result"
    async with b.db.read() as conn:
        on_b = set(
            (
                await conn.execute(
                    sa.select(t.result_contributors.c.actor_id).where(
                        t.result_contributors.c.post_id == copy.id
                    )
                )
            ).scalars()
        )
    assert bob.actor_id in on_b  # the partner instance shows bob as a contributor
    async with b.db.read() as conn:
        notes = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == bob.actor_id,
                        t.notifications.c.post_id == copy.id,
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "mention" in notes
    doc = await (
        await a.client.get(
            f"/users/ana/posts/{result}", headers={"Accept": "application/activity+json"}
        )
    ).json()
    assert f"{b.url}/users/bob" in doc["koers:contributors"]

    reply = await kudos.give_kudos(
        a.ctx, ana.actor_id, result, credited[0], "thank you for the barrels"
    )
    await pump(a, b)
    thanks = await post_by_uri(b, f"{a.url}/users/ana/posts/{reply}")
    assert (
        thanks is not None and thanks.in_reply_to_id == copy.id and "Kudos" in thanks.content_html
    )
    async with b.db.read() as conn:
        notes = (
            (
                await conn.execute(
                    sa.select(t.notifications.c.type).where(
                        t.notifications.c.actor_id == bob.actor_id,
                        t.notifications.c.post_id == thanks.id,
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "mention" in notes
