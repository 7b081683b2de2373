"""Look something up by handle or URL, through federation when we do not hold it yet.

Used by the web's ``/authorize_interaction`` (remote follow) and the client API's search with
``resolve=true``: an ``@user@host`` handle or an actor URL becomes an ``actors`` row; a post URL is
fetched from its origin (signed as the member asking, so it shows what they may see) and stored as
a remote post. What the caller then shows still goes through the visibility module.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from aiohttp import web

from federation.actors import ACTOR_TYPES, fetch_signed, resolve_actor, resolve_handle_to_actor
from federation.errors import FederationError
from server.activitypub.core.ingest import post_from_activity
from server.activitypub.core.vocab import POST_TYPES, first_id, same_origin
from server.keys import CTX
from server.services import actors, remote_posts

log = logging.getLogger(__name__)
HANDLE = re.compile(
    r"^@?(?P<user>[A-Za-z0-9_.\-]{1,64})@(?P<host>[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?)$"
)


@dataclass(frozen=True)
class Found:
    """What a lookup found: an actor or a post, by its id in our tables."""

    kind: Literal["actor", "post"]
    id: int


def parse_handle(text: str) -> tuple[str, str] | None:
    """(user, host) of ``@user@host``, ``user@host`` or ``acct:user@host``; ``None`` otherwise."""
    match = HANDLE.match(text.strip().removeprefix("acct:"))
    return (match["user"], match["host"].lower()) if match else None


async def _known(app: web.Application, url: str) -> Found | None:
    async with app[CTX].db.read() as conn:
        actor = await actors.actor_id_by_url(conn, url)
        if actor is not None:
            return Found("actor", actor)
        post = await remote_posts.post_id_by_url(conn, url)
        return Found("post", post) if post is not None else None


async def _local_handle(app: web.Application, user: str) -> Found | None:
    async with app[CTX].db.read() as conn:
        actor = await actors.local_actor_id(conn, user)
    return Found("actor", actor) if actor is not None else None


async def import_post(app: web.Application, doc: dict) -> int | None:
    """Store a fetched remote post document (its author resolved); returns the post id."""
    author_uri = first_id(doc.get("attributedTo"))
    if not author_uri or not same_origin(doc.get("id"), author_uri):
        log.info("lookup refused %s: not from its author's host", doc.get("id"))
        return None
    author_id = await resolve_actor(app, author_uri)
    async with app[CTX].db.write() as conn:
        author = await actors.actor_row(conn, author_id)
        post_id, _created = await post_from_activity(conn, doc, author)
    return post_id


async def lookup(app: web.Application, text: str, *, as_actor: int | None = None) -> Found | None:
    """An actor or post for a handle or URL, fetched (signed as ``as_actor``) when unknown.

    ``None`` when it cannot be found or fetched; never raises for bad input or remote failures.
    """
    text = text.strip()
    local_domain = app[CTX].settings.domain.lower()
    try:
        if handle := parse_handle(text):
            user, host = handle
            if host == local_domain:
                return await _local_handle(app, user)
            return Found("actor", await resolve_handle_to_actor(app, f"{user}@{host}"))
        if urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).netloc:
            return None
        if (found := await _known(app, text)) is not None or urlsplit(
            text
        ).netloc.lower() == local_domain:
            return found
        doc = await fetch_signed(app, text, as_actor=as_actor)
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or not same_origin(doc_id, text):
            log.info("lookup of %s answered the foreign id %r", text, doc_id)
            return None
        if doc.get("type") in ACTOR_TYPES:
            return Found("actor", await resolve_actor(app, doc_id))
        if doc.get("type") in POST_TYPES:
            if (found := await _known(app, doc_id)) is not None:
                return found
            post_id = await import_post(app, doc)
            return Found("post", post_id) if post_id is not None else None
    except (FederationError, ValueError) as exc:
        log.info("lookup of %r failed: %s", text, exc)
    return None
