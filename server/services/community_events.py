"""Community events (the networking drinks, the workshop): time, place or online link, capacity and
join mode; participants from this instance and from anywhere in the fediverse.

Any accepted member of a community may organise an event for it (the organiser and the community's
managers may edit it and decide on requests). Every read goes through ``visibility.events_visible_to``.
Participation states: ``joined`` | ``pending`` (approval mode) | ``rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from server.i18n import N_
from server.i18n.messages import Message
from server.services import notifications, text
from server.services.posts import is_member, viewer_for_actor
from server.services.remote_groups import ensure_remote_community
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import ITEM_AUDIENCES, Audience, Viewer, can_see_event, events_visible_to

JOIN_MODES = ("free", "approval")
MAX_TITLE = 255
MAX_DESCRIPTION = 10000
FULL_MESSAGE = N_("this event is full")


@dataclass(frozen=True, slots=True)
class Event:
    """An event as pages and APIs show it."""

    id: int
    community_id: int
    organiser_id: int | None
    title: str
    description_html: str
    starts_at: datetime
    ends_at: datetime | None
    place_name: str
    place_address: str
    online_url: str
    capacity: int | None
    join_mode: str
    audience: Audience
    uri: str | None
    participant_count: int
    created_at: datetime
    updated_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.participant_count, 0)

    @property
    def past(self) -> bool:
        return (self.ends_at or self.starts_at) < clock.now()


@dataclass(frozen=True, slots=True)
class Participant:
    """One RSVP: who and in which state."""

    actor_id: int
    handle: str
    display_name: str
    local: bool
    state: str


@dataclass(frozen=True, slots=True)
class EventInput:
    """What an organiser fills in; validated by ``create_event`` / ``update_event``."""

    title: str
    starts_at: datetime | None
    description: str = ""
    ends_at: datetime | None = None
    place_name: str = ""
    place_address: str = ""
    online_url: str = ""
    capacity: int | None = None
    join_mode: str = "free"
    audience: str = "public"


def parse_time(value: str, field: str) -> datetime | None:
    """An ISO 8601 time from a form or JSON; a time without offset is taken as UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = clock.aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        assert parsed is not None
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError(
            Message("%(field)s: a date and time such as 2026-12-01T18:00", field=field), field=field
        ) from None
    if not 1970 <= parsed.year <= 9000:
        raise ValidationError(
            Message("%(field)s: a date between 1970 and 9000", field=field), field=field
        )
    return parsed


def validate(data: EventInput) -> None:
    """Check an event's fields; a ValidationError names the first problem and holds them all."""
    _validated(data)


def _validated(data: EventInput) -> dict[str, Any]:
    found = FieldErrors()
    for name in ("title", "description", "place_name", "place_address", "online_url"):
        if "\x00" in getattr(data, name):
            found.add(name, Message("%(name)s: must not contain NUL characters", name=name))
    title = data.title.strip()
    if not title:
        found.add("title", "title: please give the event a title")
    if len(title) > MAX_TITLE:
        found.add("title", Message("title: at most %(num)s characters", num=MAX_TITLE))
    if len(data.description) > MAX_DESCRIPTION:
        found.add(
            "description", Message("description: at most %(num)s characters", num=MAX_DESCRIPTION)
        )
    for name, limit in (("place_name", 255), ("place_address", 500), ("online_url", 2048)):
        if len(getattr(data, name)) > limit:
            found.add(
                name, Message("%(name)s: at most %(limit)s characters", name=name, limit=limit)
            )
    if data.starts_at is None:
        found.add("starts_at", "starts_at: when does the event start?")
    elif data.starts_at.tzinfo is None:
        found.add("starts_at", "starts_at: give a time zone")
    elif data.ends_at is not None and data.ends_at <= data.starts_at:
        found.add("ends_at", "ends_at: the end must be after the start")
    online = data.online_url.strip()
    if online and urlsplit(online).scheme not in ("http", "https"):
        found.add("online_url", "online_url: an http(s) link")
    if not online and not data.place_name.strip() and not data.place_address.strip():
        found.add("place_name", "place_name: give a place or an online link")
    if data.capacity is not None and not 1 <= data.capacity <= 100000:
        found.add("capacity", "capacity: a number from 1, or empty for no limit")
    if data.join_mode not in JOIN_MODES:
        found.add("join_mode", "join_mode: free or approval")
    audience = Audience.PUBLIC
    try:
        audience = Audience.parse(data.audience)
        if audience not in ITEM_AUDIENCES:
            found.add(
                "audience",
                Message(
                    "audience: one of %(choices)s",
                    choices=", ".join(a.value for a in ITEM_AUDIENCES),
                ),
            )
    except ValueError as exc:
        found.add("audience", str(exc))
    found.raise_any()
    return {
        "title": title,
        "description_source": data.description,
        "description_html": text.render(data.description).html if data.description.strip() else "",
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "place_name": data.place_name.strip(),
        "place_address": data.place_address.strip(),
        "online_url": online,
        "capacity": data.capacity,
        "join_mode": data.join_mode,
        "audience": audience.value,
    }


async def _community_handle(conn: AsyncConnection, community_id: int) -> str:
    handle = (
        await conn.execute(
            sa.select(t.actors.c.username)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id, t.communities.c.local.is_(True))
        )
    ).scalar()
    if handle is None:
        raise NotFound("no such community")
    return str(handle)


async def create_event(ctx: Context, actor_id: int, community_id: int, data: EventInput) -> int:
    """A member organises an event of the community; returns its id."""
    values = _validated(data)
    async with ctx.db.write() as conn:
        handle = await _community_handle(conn, community_id)
        if not await is_member(conn, community_id, actor_id):
            raise Forbidden("only members of the community can organise its events")
        now = clock.now()
        res = await conn.execute(
            t.events.insert().values(
                community_id=community_id,
                organiser_id=actor_id,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
        event_id = inserted_id(res)
        await conn.execute(
            t.events.update()
            .where(t.events.c.id == event_id)
            .values(uri=f"{ctx.base}/c/{handle}/events/{event_id}")
        )
        await conn.execute(
            t.event_participants.insert().values(
                event_id=event_id, actor_id=actor_id, state="joined", created_at=now
            )
        )
        event = await ctx.events.emit(
            conn,
            kinds.EVENT_CREATED,
            event_id=event_id,
            community_id=community_id,
            actor_id=actor_id,
        )
    await ctx.events.committed(event)
    return event_id


async def may_manage(conn: AsyncConnection, event_id: int, actor_id: int | None) -> bool:
    """The organiser and the community's managers edit the event and decide on requests."""
    if actor_id is None:
        return False
    row = (
        await conn.execute(
            sa.select(t.events.c.organiser_id, t.events.c.community_id).where(
                t.events.c.id == event_id
            )
        )
    ).first()
    if row is None:
        return False
    if row.organiser_id == actor_id:
        return True
    manager = await conn.execute(
        sa.select(1).where(
            t.community_managers.c.community_id == row.community_id,
            t.community_managers.c.actor_id == actor_id,
        )
    )
    return manager.first() is not None


async def _organisers(conn: AsyncConnection, row: sa.Row) -> list[int]:
    """The organiser and the community's managers (who decide on requests)."""
    managers = await conn.execute(
        sa.select(t.community_managers.c.actor_id).where(
            t.community_managers.c.community_id == row.community_id
        )
    )
    found = {int(r[0]) for r in managers}
    if row.organiser_id is not None:
        found.add(int(row.organiser_id))
    return sorted(found)


async def update_event(ctx: Context, actor_id: int, event_id: int, data: EventInput) -> None:
    """The organiser or a manager changes the event (an ``Update`` when federated)."""
    values = _validated(data)
    async with ctx.db.write() as conn:
        if not await can_see_event(conn, Viewer(actor_id=actor_id, local=True), event_id):
            raise NotFound("no such event")
        if not await may_manage(conn, event_id, actor_id):
            raise Forbidden("only the organiser or a manager can change the event")
        await conn.execute(
            t.events.update()
            .where(t.events.c.id == event_id)
            .values(updated_at=clock.now(), **values)
        )
        event = await ctx.events.emit(
            conn, kinds.EVENT_UPDATED, event_id=event_id, actor_id=actor_id
        )
    await ctx.events.committed(event)


async def joined_count(conn: AsyncConnection, event_id: int) -> int:
    """How many people have a place."""
    return int(
        (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.event_participants)
                .where(
                    t.event_participants.c.event_id == event_id,
                    t.event_participants.c.state == "joined",
                )
            )
        ).scalar_one()
    )


async def rsvp(ctx: Context, actor_id: int, event_id: int, *, join_uri: str | None = None) -> str:
    """Ask for a place (local or remote actor): ``joined`` in free mode, ``pending`` in approval mode
    (and for events of remote communities, until their ``Accept``).

    A full event raises Conflict (a remote Join is answered with a Reject).
    """
    async with ctx.db.write() as conn:
        row = (await conn.execute(sa.select(t.events).where(t.events.c.id == event_id))).first()
        if row is None or not await can_see_event(
            conn, await viewer_for_actor(conn, actor_id), event_id
        ):
            raise NotFound("no such event")
        existing = (
            await conn.execute(
                sa.select(t.event_participants).where(
                    t.event_participants.c.event_id == event_id,
                    t.event_participants.c.actor_id == actor_id,
                )
            )
        ).first()
        if existing is not None and existing.state in ("joined", "pending"):
            return str(existing.state)
        if existing is not None and existing.state == "rejected":
            raise Forbidden("the organisers declined your request for this event")
        if row.capacity is not None and await joined_count(conn, event_id) >= row.capacity:
            raise Conflict(
                Message(
                    "%(full_message)s: all %(capacity)s places are taken",
                    full_message=Message(FULL_MESSAGE),
                    capacity=row.capacity,
                )
            )
        local_event = (
            await conn.execute(
                sa.select(t.communities.c.local).where(t.communities.c.id == row.community_id)
            )
        ).scalar()
        # a remote community's event: pending until its Group answers our Join with Accept
        state = "joined" if row.join_mode == "free" and local_event else "pending"
        await conn.execute(
            t.event_participants.insert().values(
                event_id=event_id,
                actor_id=actor_id,
                state=state,
                uri=join_uri,
                created_at=clock.now(),
            )
        )
        if state == "pending" and local_event:
            for manager in await _organisers(conn, row):
                await notifications.notify(
                    conn,
                    manager,
                    "koers.event_request",
                    from_actor_id=actor_id,
                    community_id=row.community_id,
                    extra={"event_id": event_id},
                )
        event = await ctx.events.emit(
            conn, kinds.EVENT_RSVP, event_id=event_id, actor_id=actor_id, state=state
        )
    await ctx.events.committed(event)
    return state


async def leave(ctx: Context, actor_id: int, event_id: int) -> None:
    """Give up a place or withdraw a request (an organiser stays: there is always one)."""
    async with ctx.db.write() as conn:
        row = (await conn.execute(sa.select(t.events).where(t.events.c.id == event_id))).first()
        if row is None:
            raise NotFound("no such event")
        res = await conn.execute(
            t.event_participants.delete().where(
                t.event_participants.c.event_id == event_id,
                t.event_participants.c.actor_id == actor_id,
                t.event_participants.c.state != "rejected",
            )
        )
        if not res.rowcount:
            raise NotFound("you are not taking part in this event")
        event = await ctx.events.emit(conn, kinds.EVENT_LEFT, event_id=event_id, actor_id=actor_id)
    await ctx.events.committed(event)


async def decide(
    ctx: Context, manager_id: int, event_id: int, participant_id: int, accept: bool
) -> str:
    """The organiser or a manager accepts or rejects a pending request; capacity still holds."""
    async with ctx.db.write() as conn:
        row = (await conn.execute(sa.select(t.events).where(t.events.c.id == event_id))).first()
        if row is None or not await can_see_event(
            conn, Viewer(actor_id=manager_id, local=True), event_id
        ):
            raise NotFound("no such event")
        if not await may_manage(conn, event_id, manager_id):
            raise Forbidden("only the organiser or a manager can decide on requests")
        pending = (
            await conn.execute(
                sa.select(t.event_participants).where(
                    t.event_participants.c.event_id == event_id,
                    t.event_participants.c.actor_id == participant_id,
                    t.event_participants.c.state == "pending",
                )
            )
        ).first()
        if pending is None:
            raise NotFound("no pending request from that person")
        if (
            accept
            and row.capacity is not None
            and await joined_count(conn, event_id) >= row.capacity
        ):
            raise Conflict(
                Message(
                    "%(full_message)s: all %(capacity)s places are taken",
                    full_message=Message(FULL_MESSAGE),
                    capacity=row.capacity,
                )
            )
        state = "joined" if accept else "rejected"
        await conn.execute(
            t.event_participants.update()
            .where(t.event_participants.c.id == pending.id)
            .values(state=state)
        )
        await notifications.notify(
            conn,
            participant_id,
            "koers.event_decision",
            from_actor_id=manager_id,
            community_id=row.community_id,
            extra={"event_id": event_id, "state": state},
        )
        event = await ctx.events.emit(
            conn, kinds.EVENT_DECIDED, event_id=event_id, actor_id=participant_id, state=state
        )
    await ctx.events.committed(event)
    return state


def _count_subquery() -> sa.ScalarSelect:
    ep = t.event_participants
    return (
        sa.select(sa.func.count())
        .select_from(ep)
        .where(ep.c.event_id == t.events.c.id, ep.c.state == "joined")
        .scalar_subquery()
    )


def _event(r: sa.Row) -> Event:
    return Event(
        id=r.id,
        community_id=r.community_id,
        organiser_id=r.organiser_id,
        title=r.title,
        description_html=r.description_html or "",
        starts_at=clock.aware(r.starts_at),
        ends_at=clock.aware(r.ends_at),
        place_name=r.place_name or "",
        place_address=r.place_address or "",
        online_url=r.online_url or "",
        capacity=r.capacity,
        join_mode=r.join_mode,
        audience=Audience(r.audience),
        uri=r.uri,
        participant_count=int(r.participant_count),
        created_at=clock.aware(r.created_at),
        updated_at=clock.aware(r.updated_at),
    )


async def events_of(
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    *,
    audiences: tuple[str, ...] | None = None,
) -> list[Event]:
    """The events of a community the viewer may see, soonest first (``audiences`` narrows further)."""
    query = sa.select(t.events, _count_subquery().label("participant_count")).where(
        t.events.c.community_id == community_id, events_visible_to(viewer)
    )
    if audiences is not None:
        query = query.where(t.events.c.audience.in_(audiences))
    rows = await conn.execute(query.order_by(t.events.c.starts_at, t.events.c.id))
    return [_event(r) for r in rows]


def split_upcoming(all_events: list[Event]) -> tuple[list[Event], list[Event]]:
    """(upcoming soonest first, past most recent first)."""
    upcoming = [e for e in all_events if not e.past]
    past = [e for e in all_events if e.past]
    return upcoming, list(reversed(past))


async def get_event(
    conn: AsyncConnection, viewer: Viewer, community_id: int, event_id: int
) -> Event:
    """One event of this community the viewer may see, or NotFound (hidden events do not exist)."""
    row = (
        await conn.execute(
            sa.select(t.events, _count_subquery().label("participant_count")).where(
                t.events.c.id == event_id,
                t.events.c.community_id == community_id,
                events_visible_to(viewer),
            )
        )
    ).first()
    if row is None:
        raise NotFound("no such event")
    return _event(row)


async def participants(conn: AsyncConnection, event_id: int) -> list[Participant]:
    """Everyone who answered, joined first (callers checked the event is visible)."""
    ep, a = t.event_participants, t.actors
    rows = await conn.execute(
        sa.select(ep.c.actor_id, ep.c.state, a.c.username, a.c.domain, a.c.display_name)
        .join(a, a.c.id == ep.c.actor_id)
        .where(ep.c.event_id == event_id)
        .order_by(ep.c.state, ep.c.id)
    )
    return [
        Participant(
            actor_id=r.actor_id,
            handle=r.username if r.domain is None else f"{r.username}@{r.domain}",
            display_name=r.display_name or r.username,
            local=r.domain is None,
            state=r.state,
        )
        for r in rows
    ]


async def state_of(conn: AsyncConnection, event_id: int, actor_id: int | None) -> str | None:
    """This actor's participation state, if any."""
    if actor_id is None:
        return None
    return (
        await conn.execute(
            sa.select(t.event_participants.c.state).where(
                t.event_participants.c.event_id == event_id,
                t.event_participants.c.actor_id == actor_id,
            )
        )
    ).scalar()


async def form_values(conn: AsyncConnection, event_id: int) -> dict[str, str]:
    """The event's fields as the edit form shows them (the description as it was written)."""
    row = (await conn.execute(sa.select(t.events).where(t.events.c.id == event_id))).first()
    if row is None:
        raise NotFound("no such event")

    def stamp(value: datetime | None) -> str:
        return (
            ""
            if value is None
            else clock.aware(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00")
        )

    return {
        "title": row.title,
        "description": row.description_source or "",
        "starts_at": stamp(row.starts_at),
        "ends_at": stamp(row.ends_at),
        "place_name": row.place_name or "",
        "place_address": row.place_address or "",
        "online_url": row.online_url or "",
        "capacity": "" if row.capacity is None else str(row.capacity),
        "join_mode": row.join_mode,
        "audience": row.audience,
    }


# --- events of remote communities ---------------------------------------------------------------


async def keep_remote_event(
    conn: AsyncConnection, group: sa.Row, uri: str, fields: dict[str, Any]
) -> int:
    """Insert or refresh our row of an event a remote community's Group published (``uri``), with
    the fields read from its document; returns its id."""
    community_id = await ensure_remote_community(conn, group)
    now = clock.now()
    values = {**fields, "description_html": "", "community_id": community_id, "updated_at": now}
    found = (await conn.execute(sa.select(t.events.c.id).where(t.events.c.uri == uri))).scalar()
    if found is not None:
        await conn.execute(t.events.update().where(t.events.c.id == found).values(**values))
        return int(found)
    res = await conn.execute(t.events.insert().values(uri=uri, created_at=now, **values))
    return inserted_id(res)


async def participation_by_uri(conn: AsyncConnection, join_uri: str | None) -> sa.Row | None:
    """Our member's participation in a remote event, by the id of the ``Join`` we sent."""
    if not join_uri:
        return None
    ep = t.event_participants
    return (await conn.execute(sa.select(ep).where(ep.c.uri == join_uri))).first()


async def remember_join(conn: AsyncConnection, event_id: int, actor_id: int, uri: str) -> None:
    """Our member's RSVP to a remote event went out as the ``Join`` ``uri``: kept, so the Group's
    answer (which names it) finds the participation."""
    ep = t.event_participants
    await conn.execute(
        ep.update().where(ep.c.event_id == event_id, ep.c.actor_id == actor_id).values(uri=uri)
    )


async def settle_remote_join(
    conn: AsyncConnection, participation: sa.Row, group_id: int, state: str
) -> None:
    """The remote community answered our member's ``Join``: ``joined`` or ``rejected``.
    Forbidden when the answer is not from the event's community."""
    group = (
        await conn.execute(
            sa.select(t.communities.c.actor_id)
            .join(t.events, t.events.c.community_id == t.communities.c.id)
            .where(t.events.c.id == participation.event_id)
        )
    ).scalar()
    if group != group_id:
        raise Forbidden("only the event's community answers a Join")
    await conn.execute(
        t.event_participants.update()
        .where(t.event_participants.c.id == participation.id)
        .values(state=state)
    )
