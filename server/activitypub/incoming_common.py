"""Shared helpers of the inbox handlers: actors by URI, remote communities, the outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import fetch_signed, resolve_actor
from federation.errors import FederationError, Ignore
from server import clock
from server.activitypub.vocab import first_id, same_origin
from server.context import Context
from server.keys import CTX
from server.storage import schema as t
from server.storage.rows import inserted_id

if TYPE_CHECKING:
    from server.activitypub.outgoing import Outbox

log = logging.getLogger(__name__)
MEMBER_FETCH_TRIES = 3  # local members tried as signers of a fetch before the instance actor
OUTBOX: web.AppKey[Outbox] = web.AppKey("activitypub_outbox")


def ctx_of(app: web.Application) -> Context:
    return app[CTX]


async def actor_row(conn: AsyncConnection, actor_id: int) -> sa.Row:
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()


async def actor_by_uri(conn: AsyncConnection, uri: str | None) -> sa.Row | None:
    if not uri:
        return None
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.uri == uri))).first()


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


async def ensure_remote_community(conn: AsyncConnection, group: sa.Row) -> int:
    """A ``communities`` row for a remote Group (so membership and audiences work); returns its id."""
    found = (
        await conn.execute(
            sa.select(t.communities.c.id).where(t.communities.c.actor_id == group.id)
        )
    ).scalar()
    if found is not None:
        return int(found)
    res = await conn.execute(
        t.communities.insert().values(
            actor_id=group.id,
            name=(group.display_name or group.username)[:255],
            description_html=group.summary_html,
            openness="approval" if group.manually_approves_followers else "open",
            local=False,
            created_at=clock.now(),
        )
    )
    return inserted_id(res)


async def refresh_remote_community(conn: AsyncConnection, group: sa.Row) -> None:
    """After a remote Group's Update: its community row follows the refreshed actor document."""
    await ensure_remote_community(conn, group)
    await conn.execute(
        t.communities.update()
        .where(t.communities.c.actor_id == group.id)
        .values(
            name=(group.display_name or group.username)[:255],
            description_html=group.summary_html,
            openness="approval" if group.manually_approves_followers else "open",
        )
    )


async def local_community_of(conn: AsyncConnection, actor_id: int) -> sa.Row | None:
    """The community whose Group is this local actor, if any."""
    return (
        await conn.execute(
            sa.select(t.communities)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.communities.c.actor_id == actor_id, t.actors.c.domain.is_(None))
        )
    ).first()


async def local_members_of_group(app: web.Application, group_uri: str | None) -> list[int]:
    """Local actors who are accepted members (followers) of the Group ``group_uri``, oldest first.

    They sign fetches of what the Group relays: its origin shows community posts to members only.
    """
    if not group_uri:
        return []
    member, group = t.actors.alias("member"), t.actors.alias("grp")
    query = (
        sa.select(t.follows.c.follower_id)
        .join(member, member.c.id == t.follows.c.follower_id)
        .join(group, group.c.id == t.follows.c.target_id)
        .where(
            group.c.uri == group_uri,
            group.c.kind == "group",
            t.follows.c.state == "accepted",
            member.c.domain.is_(None),
            member.c.kind == "person",
            member.c.suspended.is_(False),
        )
        .order_by(t.follows.c.id)
        .limit(MEMBER_FETCH_TRIES)
    )
    async with ctx_of(app).db.read() as conn:
        return [int(r[0]) for r in await conn.execute(query)]
