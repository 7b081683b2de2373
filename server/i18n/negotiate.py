"""Which language a reader gets: the member's choice, else the browser's, else the instance's."""

from __future__ import annotations

from server.i18n import LANGUAGES


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an ``Accept-Language`` header by quality, or None.

    ``nl-BE,nl;q=0.9,en;q=0.8`` → ``nl``; ``de, fr;q=0.5`` → None; ``*`` matches nothing (the
    instance default decides then).
    """
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = tag.strip().lower().replace("_", "-").split("-")[0]
        if quality > 0 and code in LANGUAGES:
            ranked.append((-quality, index, code))
    return min(ranked)[2] if ranked else None


def choose(member: str | None, accept_language: str | None, default: str) -> str:
    """The language of a page: the member's preference, else the browser's, else ``default``."""
    if member in LANGUAGES:
        return member
    return from_accept_language(accept_language) or default
