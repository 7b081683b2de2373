"""What every form of the pages does with its input and its errors.

Services check a whole form and raise one ``ValidationError`` holding every field's error
(``server.errors.FieldErrors``); these helpers turn them into the sentences a form shows next to
each field and in the summary at its top (``templates/base.html``), and read the browser's
``datetime-local`` times in the time zone the form names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import FieldErrors, KoersError, ValidationError

DEFAULT_ZONE = "UTC"


def sentence(field: str, message: str) -> str:
    """A service's message as a sentence for the person filling the form: without the field's
    code name in front ("capacity: a number from 1" → "a number from 1."); the stylesheet
    capitalises a field's error, the summary reads "Capacity: a number from 1."."""
    text = message.strip()
    for prefix in (f"{field}: ", f"{field.replace('_', ' ')}: "):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix) :]
            break
    if not text:
        return "please check this field."
    return text if text.endswith((".", "?", "!")) else text + "."


def field_errors(exc: KoersError) -> dict[str, str] | None:
    """Every field error of ``exc`` as sentences, or None when it concerns no field."""
    found = exc.errors if isinstance(exc, ValidationError) else {}
    if not found and exc.field is not None:
        found = {exc.field: exc.message}
    if not found:
        return None
    return {name: sentence(name, message) for name, message in found.items()}


def humane(errors: FieldErrors | dict[str, str]) -> dict[str, str]:
    """Collected errors as sentences (field → sentence), in the order they were found."""
    found = errors.errors if isinstance(errors, FieldErrors) else errors
    return {name: sentence(name, message) for name, message in found.items()}


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
            f"{field}: enter a date and time, such as 1 December 2026 at 18:00", field=field
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
