"""Community events without a server: organising, places and capacity, approval, leaving,
and who sees which event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server import clock
from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import community_events as events
from server.services.community_events import EventInput
from server.visibility import ANONYMOUS, can_see_event

SOON = clock.now() + timedelta(days=3)


def _input(**kw) -> EventInput:  # type: ignore[no-untyped-def]
    values = {"title": "Seed swap", "starts_at": SOON, "place_name": "The shed", **kw}
    return EventInput(**values)


async def _make(ctx, crew, **kw):  # type: ignore[no-untyped-def]
    return await events.create_event(ctx, crew.bo.actor_id, crew.community.id, _input(**kw))


async def _people(ctx, event_id):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return {(p.handle, p.state) for p in await events.participants(conn, event_id)}


async def test_a_member_organises_and_takes_part(ctx, crew) -> None:
    event_id = await _make(ctx, crew, description="Bring **seeds**")
    async with ctx.db.read() as conn:
        event = await events.get_event(conn, ANONYMOUS, crew.community.id, event_id)
        assert await events.may_manage(conn, event_id, crew.bo.actor_id)
        assert await events.may_manage(conn, event_id, crew.ana.actor_id)  # a manager
        assert not await events.may_manage(conn, event_id, crew.cy.actor_id)
    assert event.title == "Seed swap" and "<strong>seeds</strong>" in event.description_html
    assert event.participant_count == 1 and event.uri.endswith(f"/c/garden/events/{event_id}")
    assert await _people(ctx, event_id) == {("bo", "joined")}
    with pytest.raises(Forbidden):
        await events.create_event(ctx, crew.dan.actor_id, crew.community.id, _input())


@pytest.mark.parametrize(
    "values",
    [
        {"title": " "},
        {"starts_at": None},
        {"starts_at": datetime(2026, 5, 1, 10)},
        {"ends_at": SOON - timedelta(hours=1)},
        {"place_name": "", "online_url": ""},
        {"online_url": "ftp://x.example"},
        {"capacity": 0},
        {"join_mode": "lottery"},
        {"audience": "followers"},
        {"title": "nul\x00"},
    ],
)
async def test_invalid_events_are_refused(ctx, crew, values) -> None:
    with pytest.raises(ValidationError):
        await _make(ctx, crew, **values)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T18:00", datetime(2026, 12, 1, 18, tzinfo=UTC)),
        ("2026-12-01T18:00+01:00", datetime(2026, 12, 1, 17, tzinfo=UTC)),
        ("2026-12-01T18:00Z", datetime(2026, 12, 1, 18, tzinfo=UTC)),
        ("", None),
    ],
)
def test_times_from_forms(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert events.parse_time(value, "starts_at") == expected


@pytest.mark.parametrize("value", ["tomorrow", "0001-01-01T00:00", "99999-01-01"])
def test_bad_times_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        events.parse_time(value, "starts_at")


async def test_places_run_out(ctx, crew) -> None:
    event_id = await _make(ctx, crew, capacity=2)
    assert await events.rsvp(ctx, crew.cy.actor_id, event_id) == "joined"
    assert await events.rsvp(ctx, crew.cy.actor_id, event_id) == "joined"  # once
    with pytest.raises(Conflict):
        await events.rsvp(ctx, crew.dan.actor_id, event_id)
    await events.leave(ctx, crew.cy.actor_id, event_id)
    assert await events.rsvp(ctx, crew.dan.actor_id, event_id) == "joined"
    with pytest.raises(NotFound):
        await events.leave(ctx, crew.cy.actor_id, event_id)


async def test_an_approval_event_asks_the_organisers(ctx, crew) -> None:
    event_id = await _make(ctx, crew, join_mode="approval", capacity=2)
    assert await events.rsvp(ctx, crew.cy.actor_id, event_id) == "pending"
    assert await events.rsvp(ctx, crew.dan.actor_id, event_id) == "pending"
    with pytest.raises(Forbidden):
        await events.decide(ctx, crew.cy.actor_id, event_id, crew.dan.actor_id, True)
    assert await events.decide(ctx, crew.ana.actor_id, event_id, crew.cy.actor_id, True) == "joined"
    with pytest.raises(Conflict):  # bo and cy hold both places
        await events.decide(ctx, crew.bo.actor_id, event_id, crew.dan.actor_id, True)
    assert (
        await events.decide(ctx, crew.bo.actor_id, event_id, crew.dan.actor_id, False) == "rejected"
    )
    with pytest.raises(Forbidden, match="declined"):
        await events.rsvp(ctx, crew.dan.actor_id, event_id)
    with pytest.raises(NotFound):
        await events.decide(ctx, crew.bo.actor_id, event_id, crew.dan.actor_id, True)
    assert await _people(ctx, event_id) == {("bo", "joined"), ("cy", "joined"), ("dan", "rejected")}


@pytest.mark.parametrize(
    ("audience", "anonymous", "outsider", "insider"),
    [
        ("public", True, True, True),
        ("unlisted", True, True, True),
        ("community", False, False, True),
        ("members", False, True, True),
    ],
)
async def test_who_sees_an_event_and_may_take_part(
    ctx, crew, audience, anonymous, outsider, insider
) -> None:
    event_id = await _make(ctx, crew, audience=audience)
    async with ctx.db.read() as conn:
        assert await can_see_event(conn, ANONYMOUS, event_id) is anonymous
        assert await can_see_event(conn, crew.viewer(crew.dan), event_id) is outsider
        assert await can_see_event(conn, crew.viewer(crew.cy), event_id) is insider
        listed = await events.events_of(conn, ANONYMOUS, crew.community.id)
    assert (event_id in [e.id for e in listed]) is anonymous
    if not outsider:
        with pytest.raises(NotFound):
            await events.rsvp(ctx, crew.dan.actor_id, event_id)


async def test_only_organisers_change_an_event(ctx, crew) -> None:
    event_id = await _make(ctx, crew)
    await events.update_event(ctx, crew.ana.actor_id, event_id, _input(title="Seed and plant swap"))
    with pytest.raises(Forbidden):
        await events.update_event(ctx, crew.cy.actor_id, event_id, _input(title="Mine"))
    async with ctx.db.read() as conn:
        assert (await events.get_event(conn, ANONYMOUS, crew.community.id, event_id)).title == (
            "Seed and plant swap"
        )


async def test_upcoming_soonest_first_and_past_latest_first(ctx, crew) -> None:
    now = clock.now()
    later = await _make(ctx, crew, title="Later", starts_at=now + timedelta(days=9))
    sooner = await _make(ctx, crew, title="Sooner", starts_at=now + timedelta(days=1))
    old = await _make(ctx, crew, title="Old", starts_at=now - timedelta(days=9))
    recent = await _make(ctx, crew, title="Recent", starts_at=now - timedelta(days=1))
    async with ctx.db.read() as conn:
        upcoming, past = events.split_upcoming(
            await events.events_of(conn, ANONYMOUS, crew.community.id)
        )
    assert [e.id for e in upcoming] == [sooner, later] and [e.id for e in past] == [recent, old]
