"""Dates, times and numbers written the way the current language writes them (Babel)."""

from __future__ import annotations

from datetime import datetime

from babel import dates, numbers

from server.i18n.current import current_language, gettext, ngettext


def number(value: int | float) -> str:
    """``1234`` → "1,234" in English, "1.234" in Dutch."""
    return numbers.format_decimal(value, locale=current_language())


def date(when: datetime, pattern: str = "d MMMM y") -> str:
    """A date in the current language: "2 December 2026" / "2 december 2026"."""
    return dates.format_date(when, pattern, locale=current_language())


def date_time(when: datetime, pattern: str = "d MMMM y, HH:mm") -> str:
    """A date and time (in the zone of ``when``) in the current language."""
    return dates.format_datetime(when, pattern, tzinfo=when.tzinfo, locale=current_language())


def full_date(when: datetime) -> str:
    """The full date and time, for a ``title``: "2 December 2026, 10:20 UTC"."""
    zone = when.strftime("%Z") or "UTC"
    return f"{date_time(when)} {zone}"


def ago(when: datetime, now: datetime) -> str:
    """A short relative time: "just now", "3 min ago", "5 h ago", "2 days ago", then the date."""
    seconds = int((now - when).total_seconds())
    if seconds < 45:
        return gettext("just now")
    minutes = seconds // 60
    if minutes < 60:
        return gettext("%(num)s min ago") % {"num": number(max(minutes, 1))}
    hours = minutes // 60
    if hours < 24:
        return gettext("%(num)s h ago") % {"num": number(hours)}
    days = hours // 24
    if days < 7:
        return ngettext("%(num)s day ago", "%(num)s days ago", days) % {"num": number(days)}
    if when.year == now.year:
        return date(when, "d MMM")
    return date(when, "d MMM y")


def plural(count: int, one: str, many: str) -> str:
    """ "1 reply", "2 replies", "0 replies" — the words translated, the number formatted."""
    return f"{number(count)} {ngettext(one, many, count)}"
