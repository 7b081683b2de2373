"""Numbers typed into URLs and forms: only plain ASCII digits that fit a database BIGINT.

``str.isdigit()`` alone lets through ``"²"`` (``int()`` then raises) and numbers too large for
the database (the driver then raises); both used to become server errors.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import NotFound

MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1


def as_id(value: object) -> int | None:
    """The non-negative integer ``value`` spells, or None when it is not one a database can hold."""
    raw = str(value if value is not None else "").strip()
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    number = int(raw)
    return number if number <= MAX_ID else None


@web.middleware
async def path_id_guard(request: web.Request, handler):
    """Answer 404 for numeric path values no row can have (``²``, or beyond a BIGINT).

    Routes declare ids (``{id}``, ``{x_id}``, ``{version}``) as ``{x:\\d+}`` and handlers call
    ``int()`` on them; Python's ``\\d`` and ``isdigit`` accept more than a database can hold, so
    such values are refused here, once.
    """
    for name, value in request.match_info.items():
        if (
            (name == "id" or name.endswith("_id") or name == "version")
            and value.isdigit()
            and as_id(value) is None
        ):
            raise NotFound("no such page")
        # Purpose version numbers live in an INTEGER column (32 bits on PostgreSQL).
        if name == "version" and value.isdigit() and int(value) > MAX_VERSION:
            raise NotFound("no such page")
    return await handler(request)
