"""The language of what is being made now (a page, a mail), as a context variable."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

from server.i18n.catalogues import translations

_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("koers_language", default="en")


def current_language() -> str:
    """The language of the page or message being made (``en`` outside of one)."""
    return _LANGUAGE.get()


@contextlib.contextmanager
def use(language: str) -> Iterator[None]:
    """Translate into ``language`` inside the block."""
    token = _LANGUAGE.set(language)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language (as written when the catalogue lacks it)."""
    if not message:
        return message
    return translations(_LANGUAGE.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return translations(_LANGUAGE.get()).ungettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same words elsewhere by ``context``."""
    return translations(_LANGUAGE.get()).upgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    """``ngettext`` with a context."""
    return translations(_LANGUAGE.get()).unpgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated later, where it is shown."""
    return message


class Lazy:
    """Text made when it is shown (``str()``), so a label built at import time is in the language
    of the page that shows it; compares equal to the text it makes now."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __str__(self) -> str:
        return self._make()

    def __repr__(self) -> str:
        return f"Lazy({self._make()!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, Lazy) else other)

    def __hash__(self) -> int:
        return hash(str(self))


class Labels(dict[str, str]):
    """A table of ``N_``-marked labels that reads them out in the current language (``labels[key]``,
    ``get``, ``values``, ``items``): built once at import, shown in each reader's language."""

    def __getitem__(self, key: str) -> str:
        return gettext(super().__getitem__(key))

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self[key] if key in self else default

    def values(self) -> list[str]:  # type: ignore[override]
        return [self[key] for key in self]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(key, self[key]) for key in self]
