"""What Koers does with a remote actor the transport stores (``federation.actors.store_actor``).

The transport knows nothing of Koers' services; it calls the hooks registered here: the HTML of a
bio and of profile fields is sanitised, profile fields a Koers sender derived from a structured
term (``koers:derivedFrom``, e.g. its "Competencies" field) are dropped, since the term itself is
read, and the actor's competencies are kept for the people finder, refreshed with the actor.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.state import REMOTE_ACTOR_HOOKS
from server.activitypub.core.vocab import as_list, koers
from server.services import remote_competencies
from server.services.text import sanitise_html


def drop_derived_fields(doc: dict[str, Any], values: dict[str, Any]) -> None:
    """Leave out the profile fields that repeat a Koers term of the same document (only those: a
    field the member wrote keeps its place, whatever its name).

    ``values["fields"]`` holds the document's ``PropertyValue`` attachments in their order
    (``federation.actors.actor_values``), so each field is matched with its attachment."""
    listed = [
        a
        for a in as_list(doc.get("attachment"))
        if isinstance(a, dict) and a.get("type") == "PropertyValue"
    ]
    if any(koers(a, "derivedFrom") for a in listed):
        fields = values.get("fields") or []  # cut at limits.PROFILE_FIELDS: maybe fewer
        pairs = zip(fields, listed, strict=False)
        values["fields"] = [f for f, a in pairs if not koers(a, "derivedFrom")]


async def store_competencies(conn: AsyncConnection, actor_id: int, values: dict[str, Any]) -> None:
    """Replace the remote actor's competencies with those its document declares."""
    await remote_competencies.store(conn, actor_id, remote_competencies.from_actor_values(values))


def register(app: web.Application) -> None:
    """Hook the above into the transport's storing of remote actors."""
    hooks = app[REMOTE_ACTOR_HOOKS]
    hooks.sanitise = sanitise_html
    hooks.prepare.append(drop_derived_fields)
    hooks.stored.append(store_competencies)
