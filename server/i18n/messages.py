"""Messages with placeholders that are translated where they are shown.

A service raising ``ValidationError(Message("title: at most %(num)s characters", num=300))``
cannot know the reader's language; a ``Message`` keeps the catalogue's text apart from its values,
so the page (``server.http.pages.render``), the flash and the mail translate it later
(``translate``). As a ``str`` it is the English text with its values filled in, which the API,
logs and tests read. The extractor (``server.i18n.extract``) takes ``Message("…")`` as a string
of the interface; a template that shows a ``Message`` shows it translated.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

from server.i18n.current import gettext
from server.i18n.formatting import date as written_date
from server.i18n.formatting import number

# A Message as a value is translated too ("Status: %(status)s"); a date is written out in the
# language ("2 December 2026" / "2 december 2026").
Value = str | int | float | date


class Message(str):
    """A translatable message and its values: ``Message("%(name)s is taken", name="ann")``."""

    template: str
    values: dict[str, Value]

    def __new__(cls, template: str, **values: Value) -> Message:
        text = template % values if values else template
        made = super().__new__(cls, text)
        made.template = template
        made.values = dict(values)
        return made

    def translated(self) -> str:
        """The message in the current language, its numbers written as the language writes them."""
        shown = {k: _shown(v) for k, v in self.values.items()}
        translated = gettext(self.template)
        try:
            return translated % shown if shown else translated
        except (KeyError, ValueError, TypeError):  # a catalogue entry with a broken placeholder
            return self.template % shown if shown else self.template

    def __html__(self) -> Markup:
        """A template shows the message in its page's language (autoescaped, as text)."""
        return escape(self.translated())

    def as_data(self) -> dict[str, Any]:
        """The message as JSON data (a session's flash keeps it so)."""
        return {
            "t": self.template,
            "v": {k: _as_data(v) for k, v in self.values.items()},
        }

    @classmethod
    def from_data(cls, data: object) -> Message | None:
        """A message kept by ``as_data``, or None when ``data`` is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("t"), str):
            return None
        values = data.get("v") or {}
        if not isinstance(values, dict):
            return None
        clean: dict[str, Value] = {}
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(value.get("date"), str):
                value = _date_from(value["date"])
            elif isinstance(value, dict):
                value = cls.from_data(value)
            if isinstance(value, str | int | float | date):
                clean[str(key)] = value
        try:
            return cls(data["t"], **clean)
        except (KeyError, ValueError, TypeError):
            return None


def _as_data(value: Value) -> Any:
    if isinstance(value, Message):
        return value.as_data()
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def _date_from(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None


def _shown(value: Value) -> Any:
    if isinstance(value, Message):
        return value.translated()
    if isinstance(value, date):
        return written_date(value)  # type: ignore[arg-type]  # Babel writes dates and datetimes
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    return value


def as_message(text: str) -> Message:
    """``text`` as a value of another message, translated with it (a service's plain literal is
    looked up in the catalogue as it is)."""
    return text if isinstance(text, Message) else Message(text)


def shown(value: object) -> str:
    """A value kept as data (a queued mail's params): a ``Message.as_data`` translated, anything
    else as written (a title someone typed is never looked up in the catalogue)."""
    if isinstance(value, dict):
        found = Message.from_data(value)
        return found.translated() if found is not None else ""
    if isinstance(value, Message):
        return value.translated()
    return "" if value is None else str(value)


def translate(text: str) -> str:
    """``text`` in the current language: a ``Message`` with its values, a plain string looked up
    as it is (as written when the catalogue lacks it)."""
    if isinstance(text, Message):
        return text.translated()
    return gettext(text)
