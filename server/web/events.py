"""Community event pages: upcoming and past events, the "Organise an event" form (any member may
organise; the organiser and managers decide on requests), one event with RSVP buttons and its
participants, and the iCalendar exports (only public events for anonymous visitors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from server.errors import FieldErrors, Forbidden, KoersError, ValidationError
from server.http.pages import flash, form, redirect, render, require_user
from server.i18n import N_
from server.keys import CTX
from server.services import community_events as events
from server.services import ical
from server.web import forms
from server.web.community_scope import int_or_none, scope
from server.web.roadmap import ITEM_AUDIENCE_OPTIONS

routes = web.RouteTableDef()
FIELDS = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "place_name",
    "place_address",
    "online_url",
    "capacity",
    "join_mode",
    "audience",
    "tz",
)
JOIN_MODE_LABELS = [
    ("free", "Anyone may join"),
    ("approval", "The organisers approve each request"),
]
ICS = "text/calendar"
FIELD_LABELS = {
    "title": N_("Title"),
    "starts_at": N_("Starts at"),
    "ends_at": N_("Ends at"),
    "tz": N_("Time zone"),
    "place_name": N_("Place"),
    "place_address": N_("Address"),
    "online_url": N_("Online link"),
    "join_mode": N_("Who may join"),
    "audience": N_("Visible to"),
}


def event_input(values: dict[str, str]) -> tuple[events.EventInput, FieldErrors]:
    """An EventInput from the form's strings and every error in it at once (the times are the
    browser's ``datetime-local`` values in the form's time zone ``tz``)."""
    found = FieldErrors()
    times: dict[str, datetime | None] = {"starts_at": None, "ends_at": None}
    for name in times:
        with found.check(name):
            iso = forms.local_time(values.get(name, ""), values.get("tz", ""), name)
            times[name] = events.parse_time(iso, name)
    capacity = None
    with found.check("capacity"):
        capacity = _capacity(values.get("capacity", ""))
    data = events.EventInput(
        title=values.get("title", ""),
        description=values.get("description", ""),
        starts_at=times["starts_at"],
        ends_at=times["ends_at"],
        place_name=values.get("place_name", ""),
        place_address=values.get("place_address", ""),
        online_url=values.get("online_url", ""),
        capacity=capacity,
        join_mode=values.get("join_mode") or "free",
        audience=values.get("audience") or "public",
    )
    with found.check():
        events.validate(data)
    return data, found


def _capacity(value: str) -> int | None:
    raw = value.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise ValidationError(
            "capacity: a whole number of places, or empty for no limit", field="capacity"
        )
    return int(raw)


@routes.get("/c/{handle}/events")
async def events_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        upcoming, past = events.split_upcoming(
            await events.events_of(conn, s.viewer, s.community.id)
        )
    return await render(request, "events.html", upcoming=upcoming, past=past, **s.template_vars())


async def _new_page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    await require_user(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    extra.setdefault(
        "values", {"join_mode": "free", "audience": "public", "tz": forms.DEFAULT_ZONE}
    )
    extra.setdefault("errors", {})
    return await render(
        request,
        "event_new.html",
        status=status,
        join_modes=JOIN_MODE_LABELS,
        audience_options=ITEM_AUDIENCE_OPTIONS,
        field_labels=FIELD_LABELS,
        **s.template_vars(),
        **extra,
    )


@routes.get("/c/{handle}/events/new")
async def new_event_page(request: web.Request) -> web.Response:
    return await _new_page(request)


@routes.post("/c/{handle}/events/new")
async def new_event_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in FIELDS}
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    data, found = event_input(values)
    if found:
        return await _new_page(request, status=422, values=values, errors=forms.humane(found))
    try:
        event_id = await events.create_event(ctx, user.id, s.community.id, data)
    except KoersError as exc:
        if (errors := forms.field_errors(exc)) is None:
            raise
        return await _new_page(request, status=exc.status, values=values, errors=errors)
    flash(request, "Event created.")
    raise redirect(f"/c/{s.community.handle}/events/{event_id}")


async def _edit_page(
    request: web.Request,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> web.Response:
    """The edit form: the organiser and the community's managers only."""
    user = await require_user(request)
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
        event = await events.get_event(
            conn, s.viewer, s.community.id, int(request.match_info["event_id"])
        )
        if not await events.may_manage(conn, event.id, user.id):
            raise Forbidden("only the organiser or a manager can change the event")
        if values is None:
            values = await events.form_values(conn, event.id)
            for name in ("starts_at", "ends_at"):  # stored in UTC, shown in the form's zone
                values[name] = forms.local_input(events.parse_time(values[name], name))
            values["tz"] = forms.DEFAULT_ZONE
    return await render(
        request,
        "event_new.html",
        status=status,
        event=event,
        values=values,
        errors=errors or {},
        join_modes=JOIN_MODE_LABELS,
        audience_options=ITEM_AUDIENCE_OPTIONS,
        field_labels=FIELD_LABELS,
        **s.template_vars(),
    )


@routes.get(r"/c/{handle}/events/{event_id:\d+}/edit")
async def edit_event_page(request: web.Request) -> web.Response:
    """Change an event: same form and checks as organising one."""
    return await _edit_page(request)


@routes.post(r"/c/{handle}/events/{event_id:\d+}/edit")
async def edit_event_submit(request: web.Request) -> web.Response:
    """Save the change; federated as an ``Update`` of the Event to participants and remote members."""
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in FIELDS}
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
    event_id = int(request.match_info["event_id"])
    data, found = event_input(values)
    if found:
        return await _edit_page(request, status=422, values=values, errors=forms.humane(found))
    try:
        await events.update_event(request.app[CTX], user.id, event_id, data)
    except KoersError as exc:
        if (errors := forms.field_errors(exc)) is None:
            raise
        return await _edit_page(request, status=exc.status, values=values, errors=errors)
    flash(request, "Event changed.")
    raise redirect(f"/c/{s.community.handle}/events/{event_id}")


async def _event_page(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        event = await events.get_event(
            conn, s.viewer, s.community.id, int(request.match_info["event_id"])
        )
        people = await events.participants(conn, event.id)
        mine = await events.state_of(conn, event.id, s.me)
        may_manage = await events.may_manage(conn, event.id, s.me)
    return await render(
        request,
        "event.html",
        status=status,
        event=event,
        people=people,
        mine=mine,
        may_manage=may_manage,
        error=error,
        **s.template_vars(),
    )


@routes.get(r"/c/{handle}/events/{event_id:\d+}")
async def event_page(request: web.Request) -> web.Response:
    return await _event_page(request)


async def _act(request: web.Request, action: str) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    event_id = int(request.match_info["event_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        await events.get_event(conn, s.viewer, s.community.id, event_id)
    participant = (
        int_or_none(str(data.get("participant", "")), "participant") if action == "decide" else None
    )
    try:
        if action == "join":
            state = await events.rsvp(ctx, user.id, event_id)
            message = (
                "You are going."
                if state == "joined"
                else "Your request was sent to the organisers."
            )
        elif action == "leave":
            await events.leave(ctx, user.id, event_id)
            message = "You are no longer taking part."
        else:
            decision = str(data.get("decision", ""))
            if decision not in ("accept", "reject") or participant is None:
                raise ValidationError("decision: accept or reject", field="decision")
            await events.decide(ctx, user.id, event_id, participant, decision == "accept")
            message = f"Request {decision}ed."
    except KoersError as exc:
        if exc.status in (409, 422):
            return await _event_page(request, status=exc.status, error=exc.message)
        raise
    flash(request, message)
    raise redirect(f"/c/{s.community.handle}/events/{event_id}")


@routes.post(r"/c/{handle}/events/{event_id:\d+}/join")
async def join_submit(request: web.Request) -> web.Response:
    return await _act(request, "join")


@routes.post(r"/c/{handle}/events/{event_id:\d+}/leave")
async def leave_submit(request: web.Request) -> web.Response:
    return await _act(request, "leave")


@routes.post(r"/c/{handle}/events/{event_id:\d+}/decide")
async def decide_submit(request: web.Request) -> web.Response:
    return await _act(request, "decide")


def _ics(body: bytes, filename: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=ICS,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.get(r"/c/{handle}/events/{event_id:\d+}.ics")
async def event_ics(request: web.Request) -> web.Response:
    """One event as iCalendar (visibility as the page)."""
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        event = await events.get_event(
            conn, s.viewer, s.community.id, int(request.match_info["event_id"])
        )
    url = f"{ctx.base}/c/{s.community.handle}/events/{event.id}"
    return _ics(
        ical.calendar(event.title, [(event, url)], domain=ctx.settings.domain),
        f"event-{event.id}.ics",
    )


@routes.get("/c/{handle}/events.ics")
async def community_ics(request: web.Request) -> web.Response:
    """Every event of the community the viewer may see (public ones only for anonymous visitors)."""
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        only_public = ("public",) if s.viewer.anonymous else None
        found = await events.events_of(conn, s.viewer, s.community.id, audiences=only_public)
    pairs = [(e, f"{ctx.base}/c/{s.community.handle}/events/{e.id}") for e in found]
    return _ics(
        ical.calendar(s.community.name, pairs, domain=ctx.settings.domain),
        f"{s.community.handle}-events.ics",
    )
