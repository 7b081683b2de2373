"""Storing what a remote Group publishes about its purpose process (``activitypub.purpose_sync``):
phases once, versions without a notification flood, and an index of proposals and decisions that only
takes the community's own posts and the authors' own words."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.activitypub.purpose.sync import _store_process, _store_versions
from server.services import posts
from server.services import purpose_phases as phases
from server.storage import schema as t
from tests.server.web.test_remote_purpose_pages import HOST, _member, _remote_garden


async def _rows(instance, table: sa.Table) -> list:  # type: ignore[no-untyped-def,type-arg]
    async with instance.db.read() as conn:
        return list(await conn.execute(sa.select(table).order_by(table.c.id)))


async def test_a_phase_is_stored_once(instance) -> None:  # type: ignore[no-untyped-def]
    _, community_id = await _remote_garden(instance)
    started = clock.now().replace(microsecond=0) - timedelta(hours=1)
    async with instance.db.write() as conn:
        assert await phases.record_remote_phase(
            conn, community_id, "decision", started, note="Vote!"
        )
        assert not await phases.record_remote_phase(
            conn, community_id, "decision", started, note="Vote!"
        )
        assert not await phases.record_remote_phase(conn, community_id, "party", started)
        assert (await phases.current(conn, community_id)).phase == "decision"
    assert [r.phase for r in await _rows(instance, t.purpose_phases)] == ["drafting", "decision"]


async def test_catching_up_on_versions_asks_once(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await _remote_garden(instance)
    bob = await _member(instance, "bob", group_id)
    versions = [
        (v, f"<p>Text {v}</p>", "", f"http://{HOST}/c/garden/purpose/{v}", None) for v in (1, 2, 3)
    ]
    async with instance.db.write() as conn:
        community = (
            await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
        ).one()
        await _store_versions(conn, community, versions)
        await _store_versions(conn, community, versions)  # nothing new: nobody asked again
    assert [r.version for r in await _rows(instance, t.purpose_versions)] == [1, 2, 3]
    asked = [
        n for n in await _rows(instance, t.notifications) if n.type == "koers.endorse_requested"
    ]
    assert [(n.actor_id, n.extra["version"]) for n in asked] == [(bob, 3)]


async def test_process_index_takes_only_the_communitys_posts_and_the_authors_words(
    instance,
) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await _remote_garden(instance)
    bob = await _member(instance, "bob", group_id)
    dee = await _member(instance, "dee", group_id)
    proposal = await posts.create_post(
        instance.ctx,
        bob,
        posts.Draft(
            source="Proposal",
            audience=posts.Audience("community"),
            community_id=community_id,
            extra={"proposal": {"text": "Grow and share food", "reason": "share"}},
        ),
    )
    outside = await posts.create_post(
        instance.ctx,
        bob,
        posts.Draft(source="My public thoughts", audience=posts.Audience("public")),
    )
    round_post = await posts.create_post(
        instance.ctx,
        bob,
        posts.Draft(
            source="Consent round",
            audience=posts.Audience("community"),
            community_id=community_id,
            in_reply_to_id=proposal,
        ),
    )
    async with instance.db.read() as conn:
        uri = {r.id: r.uri for r in await conn.execute(sa.select(t.posts.c.id, t.posts.c.uri))}
    async with instance.db.write() as conn:
        await conn.execute(
            t.purpose_proposals.delete()
        )  # as if it had arrived before we knew the phase
        community = (
            await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
        ).one()
        await _store_process(
            conn,
            community,
            [
                {
                    "id": uri[proposal],
                    "koers:state": "in_decision",
                    "content": "Something else entirely",
                },
                {"id": uri[outside], "koers:state": "open", "content": "Claimed"},
            ],
            [
                {
                    "id": uri[round_post],
                    "koers:method": "consent",
                    "published": "2026-11-20T10:00:00Z",
                    "koers:proposals": [uri[proposal]],
                }
            ],
        )
    (indexed,) = await _rows(instance, t.purpose_proposals)
    (decision,) = await _rows(instance, t.purpose_decisions)
    assert (
        indexed.post_id == proposal
        and indexed.text_source == "Grow and share food"
        and indexed.state == "in_decision"
    )
    assert (
        indexed.decision_id == decision.id
        and decision.method == "consent"
        and decision.closed_at is None
    )
    asked = [n for n in await _rows(instance, t.notifications) if n.type == "koers.decision_opened"]
    assert [(n.actor_id, n.post_id) for n in asked] == [
        (dee, round_post)
    ]  # bob wrote it: not asked
    async with instance.db.write() as conn:  # closed and adopted on the community's instance
        await _store_process(
            conn,
            community,
            [{"id": uri[proposal], "koers:state": "adopted"}],
            [
                {
                    "id": uri[round_post],
                    "koers:method": "consent",
                    "published": "2026-11-20T10:00:00Z",
                    "endTime": "2026-11-21T10:00:00Z",
                    "koers:result": "adopted",
                    "koers:proposals": [uri[proposal]],
                }
            ],
        )
    (indexed,) = await _rows(instance, t.purpose_proposals)
    (decision,) = await _rows(instance, t.purpose_decisions)
    assert (
        indexed.state == "adopted"
        and decision.result == "adopted"
        and decision.closed_at is not None
    )
    assert (
        len(
            [n for n in await _rows(instance, t.notifications) if n.type == "koers.decision_opened"]
        )
        == 1
    )
