"""iCalendar (RFC 5545) export of community events, built with the ``icalendar`` package."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from server import clock
from server.services.community_events import Event
from server.services.text import html_to_text

if TYPE_CHECKING:  # icalendar is imported on the first export, not at start-up
    from icalendar import Event as VEvent


def _vevent(event: Event, page_url: str) -> VEvent:
    from icalendar import Event as VEvent
    from icalendar import vText

    vevent = VEvent()
    vevent.add("uid", event.uri or page_url)
    vevent.add("summary", event.title)
    vevent.add("dtstamp", clock.now())
    vevent.add("dtstart", event.starts_at)
    if event.ends_at is not None:
        vevent.add("dtend", event.ends_at)
    if event.description_html:
        vevent.add("description", html_to_text(event.description_html))
    place = ", ".join(p for p in (event.place_name, event.place_address) if p)
    if place:
        vevent.add("location", vText(place))
    elif event.online_url:
        vevent.add("location", vText(event.online_url))
    vevent.add("url", event.online_url or page_url)
    vevent.add("last-modified", event.updated_at)
    return vevent


def calendar(name: str, events: Iterable[tuple[Event, str]], *, domain: str) -> bytes:
    """A VCALENDAR with one VEVENT per (event, page URL)."""
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", f"-//Koers//{domain}//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for event, url in events:
        cal.add_component(_vevent(event, url))
    return cal.to_ical()
