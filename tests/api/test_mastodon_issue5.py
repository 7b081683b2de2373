"""Issue 5 in a Mastodon app: the real Mastodon.py client against a real instance.

Every feature of a community of purpose "degrades to something sensible in a Mastodon app (a
status, a poll, a notification)": a member reads and votes in the purpose decision's poll, sees
proposals on the community's list timeline, and gets Koers' notifications as Mastodon types
(``status`` with the post, ``poll`` when the decision ends) — or not at all when Mastodon has no
entity for them — never as a type or entity the client chokes on.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from mastodon import Mastodon

from server.services import (
    communities,
    community_events,
    idea_outcomes,
    ideas,
    kudos,
    notifications,
    posts,
    purpose_decisions,
    purpose_phases,
    purpose_proposals,
    roadmap,
)
from server.storage import schema as t
from tests.api.conftest import api_token, in_thread, mastodon_for

MASTODON_TYPES = {
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
}


async def _purpose_world(instance):  # type: ignore[no-untyped-def]
    """mara manages ``gard``; bob and cia are members; bob proposed a new purpose text."""
    mara = await instance.create_member("mara")
    bob = await instance.create_member("bob")
    cia = await instance.create_member("cia")
    ctx = instance.ctx
    community = await communities.create_community(
        ctx,
        mara.actor_id,
        handle="gard",
        name="Garden",
        purpose_text="We grow vegetables together.",
    )
    for who in (bob, cia):
        assert await communities.join(ctx, who.actor_id, community.id) == "accepted"
    for phase in ("inventory", "discussion", "drafting"):
        await purpose_phases.set_phase(ctx, mara.actor_id, community.id, phase)
    proposal_post = await purpose_proposals.create_proposal(
        ctx,
        bob.actor_id,
        community.id,
        "We grow vegetables and share them with the neighbourhood.",
        "Sharing matters.",
    )
    return mara, bob, cia, community, proposal_post


async def _proposal_id(instance, post_id: int) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(t.purpose_proposals.c.id).where(
                        t.purpose_proposals.c.post_id == post_id
                    )
                )
            ).scalar_one()
        )


def _koers_kinds(notes: list) -> dict[str, object]:  # type: ignore[type-arg]
    """Koers kind -> the notification a Mastodon app got for it (degraded ones carry ``koers.type``)."""
    return {n.koers["type"]: n for n in notes if getattr(n, "koers", None) and n.koers.get("type")}


async def test_purpose_decision_poll_read_and_voted_from_mastodon_py(instance):
    mara, bob, cia, community, proposal_post = await _purpose_world(instance)
    ctx = instance.ctx
    proposal_ids = [await _proposal_id(instance, proposal_post)]
    decision_id = await purpose_decisions.open_decision(
        ctx, mara.actor_id, community.id, "poll", proposal_ids
    )
    options = purpose_decisions.poll_options(proposal_ids)  # the first option adopts bob's proposal
    client = await mastodon_for(instance, "cia")

    # The decision reaches cia as a plain "status" notification carrying the poll.
    notes = await in_thread(client.notifications)
    assert {n.type for n in notes} <= MASTODON_TYPES
    opened = _koers_kinds(notes)["koers.decision_opened"]
    assert opened.type == "status" and opened.account.acct == "mara"
    poll = opened.status.poll
    assert poll is not None and [o.title for o in poll.options] == options and not poll.expired
    assert (
        opened.status.visibility == "private"
    )  # a community post shows as followers-only, not public

    # The proposal is a status on the community's list timeline.
    lists = await in_thread(client.lists)
    garden = next(li for li in lists if li.koers["community_id"] == str(community.id))
    timeline = await in_thread(client.timeline_list, garden.id)
    assert str(proposal_post) in [str(s.id) for s in timeline]
    assert str(opened.status.id) in [str(s.id) for s in timeline]

    # cia votes from the app; the vote counts in the decision.
    voted = await in_thread(client.poll_vote, poll.id, [0])
    assert voted.voted and voted.votes_count == 1 and voted.own_votes == [0]
    async with instance.db.read() as conn:
        decision = (
            await conn.execute(
                sa.select(t.purpose_decisions).where(t.purpose_decisions.c.id == decision_id)
            )
        ).one()
        assert await purpose_decisions.tally(conn, decision) == {
            options[0]: 1,
            **{o: 0 for o in options[1:]},
        }
    closed = await purpose_decisions.close_decision(ctx, mara.actor_id, decision_id)
    assert closed.result == "adopted" and closed.counts[options[0]] == 1

    # bob (the proposal's author) learns the outcome as Mastodon's "poll" (a poll ended), with the poll.
    bob_client = await mastodon_for(instance, "bob")
    bob_notes = await in_thread(bob_client.notifications)
    assert {n.type for n in bob_notes} <= MASTODON_TYPES
    ended = _koers_kinds(bob_notes)["koers.decision_closed"]
    assert ended.type == "poll" and ended.status.poll.expired and ended.koers["result"] == "adopted"
    # mara, the manager, got the proposal as a status.
    mara_notes = await in_thread((await mastodon_for(instance, "mara")).notifications)
    proposed = _koers_kinds(mara_notes)["koers.proposal"]
    assert (
        proposed.type == "status"
        and str(proposed.status.id) == str(proposal_post)
        and proposed.account.acct == "bob"
    )


async def test_koers_notifications_degrade_or_stay_out(instance):
    """Results, kudos and ideas come as statuses/mentions; kinds without a Mastodon entity (a join
    approved, an event RSVP answered, a roadmap status, a role's term) are left out of Mastodon
    listings, excluded with the type they degrade to, and still listed to clients that name them."""
    mara, bob, cia, community, _proposal = await _purpose_world(instance)
    ctx = instance.ctx
    result = await posts.create_post(
        ctx,
        bob.actor_id,
        posts.Draft(
            "We harvested the first beans.",
            kind="result",
            title="First harvest",
            community_id=community.id,
            contributor_ids=(cia.actor_id,),
        ),
    )
    await kudos.give_kudos(ctx, bob.actor_id, result, cia.actor_id, "Thanks for the watering!")
    idea = await ideas.submit_idea(ctx, cia.actor_id, community.id, title="A seed library")
    await idea_outcomes.decline(ctx, mara.actor_id, idea)
    item = await roadmap.create_item(
        ctx, cia.actor_id, community.id, title="Build a shed", audience="public"
    )
    await roadmap.change_status(ctx, mara.actor_id, item, "in_progress")
    async with (
        instance.db.write() as conn
    ):  # kinds whose services need more setup than this test is about
        for kind, extra in (
            ("koers.join_approved", {}),
            ("koers.event_decision", {"event_id": 1, "state": "joined"}),
            (
                "koers.role_term_ended",
                {"role_id": 1, "role": "gardener", "holder_id": cia.actor_id},
            ),
        ):
            await notifications.notify(
                conn,
                cia.actor_id,
                kind,
                from_actor_id=mara.actor_id,
                community_id=community.id,
                extra=extra,
            )

    client = await mastodon_for(instance, "cia")
    notes = await in_thread(client.notifications)
    manager = await mastodon_for(instance, "mara")
    manager_notes = await in_thread(manager.notifications)
    for n in [
        *notes,
        *manager_notes,
    ]:  # a Mastodon type, an account, and the status its type promises
        assert n.type in MASTODON_TYPES and n.account.acct
        assert (n.status is not None) == (
            n.type in {"mention", "status", "reblog", "favourite", "poll", "update"}
        )
    kinds, manager_kinds = _koers_kinds(notes), _koers_kinds(manager_notes)
    # cia is credited on the result (a mention) and thanked with kudos (a mention); her idea's outcome is a status.
    mentions = [n.status.content for n in notes if n.type == "mention"]
    assert any("First harvest" in c or "first beans" in c for c in mentions), mentions
    assert any("Thanks for the watering" in c for c in mentions), mentions
    assert (
        kinds["koers.idea_update"].type == "status"
        and kinds["koers.idea_update"].koers["outcome"] == "declined"
    )
    assert not {
        "koers.join_approved",
        "koers.event_decision",
        "koers.role_term_ended",
        "koers.roadmap_status",
    } & set(kinds)
    # mara, a member and the manager, gets the result and the idea as statuses.
    assert manager_kinds["koers.result"].type == "status" and str(
        manager_kinds["koers.result"].status.id
    ) == str(result)
    assert (
        manager_kinds["koers.idea"].type == "status"
        and "seed library" in manager_kinds["koers.idea"].status.content
    )

    without_statuses = await in_thread(manager.notifications, exclude_types=["status"])
    assert "status" not in {n.type for n in without_statuses} and not _koers_kinds(without_statuses)
    only_statuses = await in_thread(manager.notifications, types=["status"])
    assert {n.type for n in only_statuses} == {"status"} and {"koers.result", "koers.idea"} <= set(
        _koers_kinds(only_statuses)
    )

    # A Koers-aware client names the kinds and gets them as themselves.
    named = await in_thread(
        client.notifications,
        types=["koers.join_approved", "koers.roadmap_status", "koers.idea_update"],
    )
    assert sorted(n.type for n in named) == [
        "koers.idea_update",
        "koers.join_approved",
        "koers.roadmap_status",
    ]
    status_change = next(n for n in named if n.type == "koers.roadmap_status")
    assert status_change.status is None and status_change.koers["item_id"] == item
    one = await in_thread(client.notifications, id=status_change.id)
    assert one.type == "koers.roadmap_status"


async def test_event_and_roadmap_item_are_statuses_or_absent(instance):
    """An event and a roadmap item status change never reach a Mastodon app as a broken entity:
    the community's list timeline and the home timeline hold only well-formed statuses."""
    mara, bob, cia, community, _proposal = await _purpose_world(instance)
    ctx = instance.ctx
    await community_events.create_event(
        ctx,
        mara.actor_id,
        community.id,
        community_events.EventInput(
            title="Planting day",
            starts_at=datetime(2031, 4, 1, 10, 0, tzinfo=UTC),
            place_name="The garden",
        ),
    )
    item = await roadmap.create_item(
        ctx, mara.actor_id, community.id, title="Compost corner", audience="public"
    )
    await roadmap.change_status(ctx, mara.actor_id, item, "in_progress")
    client = await mastodon_for(instance, "cia")
    garden = next(
        li for li in await in_thread(client.lists) if li.koers["community_id"] == str(community.id)
    )
    for timeline in (
        await in_thread(client.timeline_list, garden.id),
        await in_thread(client.timeline_home),
        await in_thread(
            Mastodon(api_base_url=instance.url, version_check_mode="none").timeline_public
        ),
    ):
        for status in timeline:
            assert (
                status.id and status.account.acct and isinstance(status.content, str) and status.uri
            )
            assert status.visibility in ("public", "unlisted", "private", "direct")


async def test_streaming_degrades_like_the_list(instance):
    """The user stream pushes a proposal to its manager as a ``status`` notification, and leaves out a
    Koers kind with no Mastodon form (sent first, so it would arrive first)."""
    mara, bob, cia, community, _first = await _purpose_world(instance)
    token = await api_token(instance, "mara")
    url = (
        instance.url.replace("http://", "ws://")
        + f"/api/v1/streaming?stream=user&access_token={token}"
    )
    async with instance.client.session.ws_connect(url) as ws:
        await asyncio.sleep(0.2)
        async with instance.db.write() as conn:
            await notifications.notify(
                conn,
                mara.actor_id,
                "koers.join_approved",
                from_actor_id=bob.actor_id,
                community_id=community.id,
            )
        second = await purpose_proposals.create_proposal(
            instance.ctx,
            cia.actor_id,
            community.id,
            "We grow vegetables, fruit and friendships.",
            "",
        )
        while True:
            message = await ws.receive_json(timeout=15)
            if message["event"] == "notification":
                break
    note = json.loads(message["payload"])
    assert note["type"] == "status" and note["koers"]["type"] == "koers.proposal"
    assert note["status"]["id"] == str(second) and note["account"]["acct"] == "cia"


async def test_unread_count_includes_kinds_shown_to_apps(instance) -> None:  # type: ignore[no-untyped-def]
    """A Koers kind the app sees as a status also counts as unread; one it never sees does not."""
    from server.services import notifications as notes
    from server.services import posts as post_service
    from server.visibility import Audience
    from tests.api.conftest import api_token

    ann = await instance.create_member("ann")
    bob = await instance.create_member("bob")
    post_id = await post_service.create_post(
        instance.ctx,
        bob.actor_id,
        post_service.Draft(source="A proposal", audience=Audience.PUBLIC),
    )
    async with instance.db.write() as conn:
        await notes.notify(
            conn, ann.actor_id, "koers.proposal", from_actor_id=bob.actor_id, post_id=post_id
        )
        await notes.notify(conn, ann.actor_id, "koers.join_approved", from_actor_id=bob.actor_id)
    token = await api_token(instance, "ann")
    resp = await instance.client.get(
        "/api/v1/notifications/unread_count", headers={"Authorization": f"Bearer {token}"}
    )
    assert (await resp.json())["count"] == 1
