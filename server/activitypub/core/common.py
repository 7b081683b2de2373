"""Shared helpers of the inbox handlers: actors by URI, remote communities, the outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from federation.actors import fetch_signed, resolve_actor
from federation.errors import FederationError, Ignore
from server.activitypub.core.vocab import first_id, same_origin
from server.context import Context
from server.keys import CTX
from server.services import actors

# The lookups every inbox handler uses, re-exported where the handlers look for them.
from server.services.actors import actor_by_uri as actor_by_uri
from server.services.actors import actor_row as actor_row

if TYPE_CHECKING:
    from server.activitypub.posts.outbound import Outbox

log = logging.getLogger(__name__)
MEMBER_FETCH_TRIES = 3  # local members tried as signers of a fetch before the instance actor
OUTBOX: web.AppKey[Outbox] = web.AppKey("activitypub_outbox")


def ctx_of(app: web.Application) -> Context:
    return app[CTX]


async def resolve(app: web.Application, uri: str | None) -> int:
    """An actor id for ``uri`` (fetched when unknown); Ignore when it cannot be had."""
    if not uri:
        raise Ignore("no_actor", "the activity names no actor")
    try:
        return await resolve_actor(app, uri)
    except FederationError as exc:
        raise Ignore("unknown_actor", f"{uri}: {exc}") from None


def named_actor(activity: dict[str, Any]) -> str:
    """The id of the activity's actor; Ignore when it names none (``the_actor`` resolves it)."""
    uri = first_id(activity.get("actor"))
    if not uri:
        raise Ignore("no_actor", "the activity names no actor")
    return uri


async def the_actor(app: web.Application, activity: dict[str, Any], signer_id: int) -> int:
    """The activity's actor, which must be the signer (the transport checks hosts; we check ids)."""
    uri = first_id(activity.get("actor"))
    actor_id = await resolve(app, uri)
    if actor_id != signer_id:
        raise Ignore("actor_mismatch", f"{uri} is not the signer")
    return actor_id


async def fetch_object(
    app: web.Application,
    value: Any,
    *,
    trusted_actor: str | None = None,
    as_actors: Sequence[int] = (),
) -> dict[str, Any]:
    """The object of an activity: embedded when its id shares the actor's host, else fetched from origin.

    ``as_actors``: local actors to sign the fetch as, tried in turn before the instance actor (an
    origin shows a community-only post to a member of the community, not to our instance).
    """
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        if trusted_actor is None or same_origin(value["id"], trusted_actor):
            return value
        value = value["id"]
    if not isinstance(value, str):
        raise Ignore("no_object", "the activity has no usable object")
    doc: Any = None
    for signer in [*as_actors[:MEMBER_FETCH_TRIES], None]:
        try:
            doc = await fetch_signed(app, value, as_actor=signer)
            break
        except FederationError as exc:
            log.info("fetching %s as %s failed: %s", value, signer or "the instance", exc)
            if signer is None:
                raise Ignore("fetch_failed", f"{value}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("id") != value:
        raise Ignore("bad_object", f"{value} answered another id")
    return doc


async def local_members_of_group(app: web.Application, group_uri: str | None) -> list[int]:
    """Local actors who are accepted members (followers) of the Group ``group_uri``, oldest first.

    They sign fetches of what the Group relays: its origin shows community posts to members only.
    """
    if not group_uri:
        return []
    async with ctx_of(app).db.read() as conn:
        return await actors.local_members_of_group(conn, group_uri, MEMBER_FETCH_TRIES)
