"""Dates, times and numbers written the way the current language writes them (Babel)."""

from __future__ import annotations

import datetime as dt
import functools
from datetime import datetime

from babel import Locale, dates, numbers

from server.i18n.current import current_language, gettext, ngettext

# Pages format the same few numbers and dates over and over (every card's counts and times):
# the parsed locale is kept per language and an integer's or a day's text per language, which
# answers as Babel does at a fraction of the cost.


@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@functools.lru_cache(maxsize=4096)
def _integer(language: str, value: int) -> str:
    return numbers.format_decimal(value, locale=_locale(language))


@functools.lru_cache(maxsize=4096)
def _day(language: str, day: dt.date, pattern: str) -> str:
    return dates.format_date(day, pattern, locale=_locale(language))


def number(value: int | float) -> str:
    """``1234`` → "1,234" in English, "1.234" in Dutch."""
    if type(value) is int:
        return _integer(current_language(), value)
    return numbers.format_decimal(value, locale=_locale(current_language()))


def date(when: datetime, pattern: str = "d MMMM y") -> str:
    """A date in the current language: "2 December 2026" / "2 december 2026"."""
    if not isinstance(when, dt.date):
        return dates.format_date(when, pattern, locale=_locale(current_language()))
    # Babel formats a datetime's date part as it is (no zone conversion), so the day is the key
    day = when.date() if isinstance(when, datetime) else when
    return _day(current_language(), day, pattern)


def date_time(when: datetime, pattern: str = "d MMMM y, HH:mm") -> str:
    """A date and time (in the zone of ``when``) in the current language."""
    return dates.format_datetime(
        when, pattern, tzinfo=when.tzinfo, locale=_locale(current_language())
    )


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
