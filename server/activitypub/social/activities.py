"""Inbox handlers for relationships: Follow, Accept, Reject, Undo, Block, Like, Flag, Add/Remove.

Each handler resolves what it must fetch first, then changes the domain in one write transaction.
Anything understood but not applicable raises ``Ignore`` with its reason.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.errors import Ignore
from server.activitypub.core.common import (
    OUTBOX,
    actor_by_uri,
    actor_row,
    ctx_of,
    the_actor,
)
from server.activitypub.core.remote_sync import sync_community
from server.activitypub.core.vocab import first_id, ids, type_of
from server.errors import Forbidden, NotFound
from server.services import activity_ids, follows, posts, remote_posts, reports
from server.services.purpose_endorsements import endorse_from_like, withdraw_from_undo

log = logging.getLogger(__name__)


async def on_follow(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A remote actor follows a local person or joins a local community (``follows.receive_follow``),
    answered with ``Accept`` (accepted at once) or ``Reject`` (blocked, invitation only)."""
    follower_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        target = await actor_by_uri(conn, first_id(activity.get("object")))
        if target is None or target.domain is not None or target.suspended:
            raise Ignore("unknown_target", "not a local actor")
        state = await follows.receive_follow(conn, follower_id, target, activity.get("id"))
        if state in ("accepted", "rejected"):
            follower = await actor_row(conn, follower_id)
            decision = "Accept" if state == "accepted" else "Reject"
            await app[OUTBOX].send_decision(conn, decision, follower, target, activity.get("id"))


def _answered(activity: dict[str, Any]) -> tuple[str | None, str | None]:
    """(id of the Follow an Accept/Reject answers, its actor when embedded)."""
    inner = activity.get("object")
    return first_id(inner), first_id(inner.get("actor")) if isinstance(inner, dict) else None


async def on_accept(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Our pending follow of a remote actor (or Group) is accepted (``follows.receive_accept``);
    a member who joined a remote community catches up with what it already has."""
    remote_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        try:
            community_id = await follows.receive_accept(conn, remote_id, *_answered(activity))
        except NotFound:
            raise Ignore("unknown_follow", "no pending follow matches this Accept") from None
    if community_id is not None:
        await sync_community(app, community_id)


async def on_reject(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Our follow of a remote actor is refused (or ended by them): ``follows.receive_reject``."""
    remote_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        try:
            await follows.receive_reject(conn, remote_id, *_answered(activity))
        except NotFound:
            raise Ignore("unknown_follow", "no follow matches this Reject") from None


async def undone_kind(conn: AsyncConnection, inner: Any) -> str | None:
    """What an ``Undo`` takes back: the inner type, or (named by id only) what the id is."""
    kind = type_of(inner)
    inner_uri = first_id(inner)
    if not kind and inner_uri:  # referenced by id only: find what it was
        found = await activity_ids.activity_type_of(conn, inner_uri)
        if found:
            return found
    return kind


def _inner(activity: dict[str, Any]) -> tuple[Any, str | None, str | None]:
    """(inner activity, its id, the id of its object)."""
    inner = activity.get("object")
    obj = first_id(inner.get("object")) if isinstance(inner, dict) else None
    return inner, first_id(inner), obj


def _nothing_undone(kind: str, rowcount: int) -> None:
    if not rowcount:
        raise Ignore("nothing_to_undo", f"no {kind} to undo")


async def on_undo_follow(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Undo`` of the actor's own ``Follow`` (of a person, or a community: leaving it)."""
    actor_id = await the_actor(app, activity, signer_id)
    _, inner_uri, obj = _inner(activity)
    async with ctx_of(app).db.write() as conn:
        if not await follows.receive_unfollow(conn, actor_id, obj, inner_uri):
            raise Ignore("nothing_to_undo", "no Follow to undo")


async def on_undo_endorsement(
    app: web.Application, activity: dict[str, Any], signer_id: int
) -> None:
    """``Undo`` of the ``Like`` of one of our purpose versions: the endorsement goes."""
    actor_id = await the_actor(app, activity, signer_id)
    _, inner_uri, obj = _inner(activity)
    async with ctx_of(app).db.write() as conn:
        await withdraw_from_undo(conn, actor_id, obj, inner_uri)


async def on_undo_like(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Undo`` of the actor's ``Like`` of a post: the favourite goes (``posts.receive_unfavourite``)."""
    actor_id = await the_actor(app, activity, signer_id)
    _, inner_uri, obj = _inner(activity)
    async with ctx_of(app).db.write() as conn:
        if not await posts.receive_unfavourite(conn, actor_id, obj, inner_uri):
            raise Ignore("nothing_to_undo", "no Like to undo")


async def on_undo_announce(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Undo`` of the actor's boost: the boost goes (``remote_posts.receive_unboost``)."""
    actor_id = await the_actor(app, activity, signer_id)
    _, inner_uri, _ = _inner(activity)
    async with ctx_of(app).db.write() as conn:
        if not await remote_posts.receive_unboost(conn, actor_id, inner_uri):
            raise Ignore("unknown_announce", "no boost with that id")


async def on_undo_block(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Undo`` of the actor's ``Block`` of a local actor (``follows.remove_block``)."""
    actor_id = await the_actor(app, activity, signer_id)
    _, _, obj = _inner(activity)
    async with ctx_of(app).db.write() as conn:
        target = await actor_by_uri(conn, obj) if obj else None
        if target is None or not await follows.remove_block(conn, actor_id, target.id):
            raise Ignore("nothing_to_undo", "no Block to undo")


async def on_block(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A remote actor blocks a local one: follows both ways end; their posts stay hidden from them."""
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        target = await actor_by_uri(conn, first_id(activity.get("object")))
        if target is None or target.domain is not None:
            raise Ignore("unknown_target", "Block of someone not local (a community ban elsewhere)")
        await follows.record_block(conn, actor_id, target.id, uri=activity.get("id"))


async def on_endorse(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Like`` of one of our purpose versions: an endorsement of the social contract."""
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        await endorse_from_like(
            conn, actor_id, first_id(activity.get("object")) or "", activity.get("id")
        )


async def on_favourite(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A favourite of a local post (+ notification), by the local rule (``posts.receive_favourite``)."""
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        try:
            await posts.receive_favourite(
                conn, actor_id, first_id(activity.get("object")), activity.get("id")
            )
        except NotFound as exc:
            raise Ignore("unknown_object", exc.message) from None
        except Forbidden as exc:
            raise Ignore("not_visible", exc.message) from None


async def on_flag(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A report from another server: ``reports.receive_report``."""
    reporter_id = await the_actor(app, activity, signer_id)
    content = activity.get("content")
    async with ctx_of(app).db.write() as conn:
        try:
            await reports.receive_report(
                conn,
                reporter_id,
                ids(activity.get("object")),
                content if isinstance(content, str) else "",
                activity.get("id"),
            )
        except NotFound as exc:
            raise Ignore("unknown_object", exc.message) from None
