"""What every form of the pages does with its input and its errors.

Services check a whole form and raise one ``ValidationError`` holding every field's error
(``server.errors.FieldErrors``); these helpers hand them to the page as field → message, which
``server.http.pages.render`` translates and words as sentences for the field and the summary at
the form's top (``templates/base.html``); and they read the browser's ``datetime-local`` times in
the time zone the form names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import FieldErrors, KoersError, ValidationError
from server.i18n.messages import Message

DEFAULT_ZONE = "UTC"


def field_errors(exc: KoersError) -> dict[str, str] | None:
    """Every field error of ``exc`` (field → message), or None when it concerns no field."""
    found = exc.errors
    if not found and exc.field is not None:
        found = {exc.field: exc.message}
    return dict(found) if found else None


def humane(errors: FieldErrors | dict[str, str]) -> dict[str, str]:
    """Collected errors (field → message), in the order they were found."""
    return dict(errors.errors if isinstance(errors, FieldErrors) else errors)


def zone(name: str) -> ZoneInfo:
    """The named IANA time zone (``Europe/Amsterdam``); blank is UTC."""
    name = (name or DEFAULT_ZONE).strip() or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "tz: not a time zone we know; write it as Europe/Amsterdam or UTC", field="tz"
        ) from None


def local_time(value: str, tz: str, field: str) -> str:
    """A ``datetime-local`` value ("2026-12-01T18:00") in time zone ``tz`` as ISO 8601 with its
    offset, as the services read times; a value that has an offset already is kept."""
    value = value.strip()
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            Message(
                "%(field)s: enter a date and time, such as 1 December 2026 at 18:00", field=field
            ),
            field=field,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    return parsed.isoformat()


def local_input(value: datetime | None, tz: str = DEFAULT_ZONE) -> str:
    """A stored time as a ``datetime-local`` input shows it, in time zone ``tz``."""
    if value is None:
        return ""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz)).strftime("%Y-%m-%dT%H:%M")
