"""The language of a web page: the member's setting, else ``Accept-Language``, else the instance."""

from __future__ import annotations

from aiohttp import web

from server import keys
from server.i18n import negotiate

LANGUAGE_KEY: web.RequestKey[str] = web.RequestKey("language")


def request_language(request: web.Request, user: object | None) -> str:
    """The language to answer ``request`` in (remembered on the request); ``user`` is the
    signed-in member's row (its ``language`` column), or None."""
    if LANGUAGE_KEY in request:
        return request[LANGUAGE_KEY]
    chosen = negotiate.choose(
        getattr(user, "language", None),
        request.headers.get("Accept-Language"),
        request.app[keys.SETTINGS].language,
    )
    request[LANGUAGE_KEY] = chosen
    return chosen
