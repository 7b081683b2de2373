"""People named by handle in a form or an API body (``ana``, ``@ana``, ``@bob@partner.example``) as
actor ids — local ones from the table, remote ones through WebFinger and the actor cache.

This does network I/O, so handlers call it BEFORE the service opens its write transaction.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from federation.actors import resolve_handle_to_actor
from federation.errors import FederationError
from server.errors import ValidationError
from server.keys import CTX
from server.services import actors

log = logging.getLogger(__name__)
HANDLE = re.compile(
    r"^@?(?P<user>[A-Za-z0-9_.\-]{1,64})(?:@(?P<host>[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?))?$"
)
MAX_HANDLES = 20


def split_handles(raw: str) -> list[str]:
    """Handles separated by commas, spaces or lines."""
    return [h for h in re.split(r"[\s,]+", raw) if h]


async def actor_ids_for_handles(
    app: web.Application, handles: list[str], *, field: str = "contributors"
) -> tuple[int, ...]:
    """Actor ids for handles, in order and without repeats; an unknown handle is a 422 on ``field``."""
    if len(handles) > MAX_HANDLES:
        raise ValidationError(f"{field}: at most {MAX_HANDLES} people", field=field)
    ctx = app[CTX]
    out: list[int] = []
    for handle in handles:
        match = HANDLE.match(handle.strip())
        if match is None:
            raise ValidationError(
                f"{field}: {handle!r} is not a handle like name or name@host", field=field
            )
        user, host = match["user"].lower(), (match["host"] or "").lower()
        if not host or host == ctx.settings.domain.lower():
            async with ctx.db.read() as conn:
                found = await actors.local_person_id(conn, user)
            if found is None:
                raise ValidationError(f"{field}: nobody called {handle!r} here", field=field)
            actor_id = found
        else:
            try:
                actor_id = await resolve_handle_to_actor(app, f"{user}@{host}")
            except FederationError as exc:
                log.info("cannot resolve %s: %s", handle, exc)
                raise ValidationError(
                    f"{field}: could not find {handle!r} on {host}", field=field
                ) from None
        if actor_id not in out:
            out.append(actor_id)
    return tuple(out)
