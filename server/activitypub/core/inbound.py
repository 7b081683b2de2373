"""The one routing table of incoming activities: (activity type × kind of its object) → handler.

``classify`` decides what an activity is about by reading it and, where its shape does not say,
looking its object up (is this id one of our roadmap items, roles, purpose versions …). ``INBOUND``
maps each pair to exactly one handler; no handler wraps another and the order of the table does not
matter. A pair the table does not name is ignored with a log line (``route``).

Handlers translate the activity and call the domain (``server/services``) in a write transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from federation.errors import Ignore
from federation.state import INBOX_HANDLERS
from server.activitypub.communities import management as communities
from server.activitypub.core.common import actor_by_uri, ctx_of
from server.activitypub.core.vocab import first_id, type_of
from server.activitypub.events import activities as events
from server.activitypub.events import sync as event_sync
from server.activitypub.ideas import activities as ideas
from server.activitypub.posts import inbound as posts
from server.activitypub.posts import inbound_batch as posts_batch
from server.activitypub.roadmap import activities as roadmap
from server.activitypub.roadmap import management as roadmap_management
from server.activitypub.roadmap import sync as roadmap_sync
from server.activitypub.roles import activities as roles
from server.activitypub.social import activities as social
from server.services import purpose_endorsements
from server.services import roadmap as roadmap_items

log = logging.getLogger(__name__)
Handler = Callable[[web.Application, dict[str, Any], int], Awaitable[None]]

# Kinds of object, as ``classify`` names them.
ACTOR = "actor"  # a person or Group (followed, blocked, updated, deleted)
POST = "post"  # a Note, Article, Question … (and what a Group relays)
ACTIVITY = "activity"  # an activity a Group relays (Announce of a Create, Update …)
REPORT = "report"  # whatever a Flag names
EVENT = "event"  # a community event (ours for Join/Leave, a remote one's Event document)
EVENT_JOIN = "event_join"  # a Join of an event (answered, or undone)
ROADMAP_ITEM = "roadmap_item"  # one of our roadmap items, by id
ROADMAP = "roadmap"  # one of our roadmap collections
ROADMAP_STATUS = "roadmap_status"  # our item named by a manager from afar, with its new status
REMOTE_ROADMAP_ITEM = "remote_roadmap_item"  # an item a remote Group publishes
ROADMAP_FOLLOW = "roadmap_follow"  # a Follow of a roadmap item (answered, or undone)
ROADMAP_SUPPORT = "roadmap_support"  # a Like of a roadmap item, undone
ROLE = "role"  # one of our roles (claimed, given up)
REMOTE_ROLE = "remote_role"  # a role Page a remote Group publishes
ROLE_JOIN = "role_join"  # our member's claim of a remote role, answered
ROLE_HOLDER = "role_holder"  # a holder added to or removed from a role
MODERATOR = "moderator"  # a moderator added to or removed from a Group
PURPOSE_VERSION = "purpose_version"  # one of our purpose versions (endorsed)
ENDORSEMENT = "endorsement"  # a Like of a purpose version, undone
IDEA_OUTCOME = "idea_outcome"  # what became of our member's idea, reported by its community
JOIN_REQUEST = "join_request"  # a pending join of our community, decided by a manager from afar
FOLLOW = "follow"  # a Follow (ours answered, or theirs undone)
FAVOURITE = "favourite"  # a Like of a post, undone
BOOST = "boost"  # an Announce, undone
BLOCK = "block"  # a Block, undone
UNKNOWN = "unknown"

INBOUND: dict[tuple[str, str], Handler] = {
    ("Follow", ACTOR): social.on_follow,
    ("Follow", ROADMAP_ITEM): roadmap.on_follow,
    ("Follow", ROADMAP): roadmap.on_follow,
    ("Accept", FOLLOW): social.on_accept,
    ("Accept", JOIN_REQUEST): communities.on_join_approved,
    ("Accept", ROADMAP_FOLLOW): roadmap_sync.on_follow_accepted,
    ("Accept", EVENT_JOIN): event_sync.on_join_accepted,
    ("Accept", ROLE_JOIN): roles.on_claim_accepted,
    ("Reject", FOLLOW): social.on_reject,
    ("Reject", JOIN_REQUEST): communities.on_join_declined,
    ("Reject", EVENT_JOIN): event_sync.on_join_rejected,
    ("Reject", ROLE_JOIN): roles.on_claim_rejected,
    ("Undo", FOLLOW): social.on_undo_follow,
    ("Undo", FAVOURITE): social.on_undo_like,
    ("Undo", ENDORSEMENT): social.on_undo_endorsement,
    ("Undo", BOOST): social.on_undo_announce,
    ("Undo", BLOCK): social.on_undo_block,
    ("Undo", EVENT_JOIN): events.on_undo_join,
    ("Undo", ROADMAP_FOLLOW): roadmap.on_undo,
    ("Undo", ROADMAP_SUPPORT): roadmap.on_undo,
    ("Block", ACTOR): social.on_block,
    ("Like", POST): social.on_favourite,
    ("Like", PURPOSE_VERSION): social.on_endorse,
    ("Like", ROADMAP_ITEM): roadmap.on_like,
    ("Flag", REPORT): social.on_flag,
    ("Create", POST): posts.on_create,
    ("Create", EVENT): event_sync.on_create,
    ("Create", REMOTE_ROADMAP_ITEM): roadmap_sync.on_remote_item,
    ("Update", POST): posts.on_update_post,
    ("Update", ACTOR): posts.on_update_actor,
    ("Update", EVENT): event_sync.on_update,
    ("Update", REMOTE_ROADMAP_ITEM): roadmap_sync.on_remote_item,
    ("Update", ROADMAP_STATUS): roadmap_management.on_status_update,
    ("Update", REMOTE_ROLE): roles.on_update,
    ("Delete", POST): posts.on_delete_post,
    ("Delete", ACTOR): posts.on_delete_actor,
    ("Announce", POST): posts.on_announce,
    ("Announce", ACTIVITY): posts.on_announce,
    ("Add", ROLE_HOLDER): posts.on_add_remove,
    ("Add", MODERATOR): posts.on_add_remove,
    ("Add", REMOTE_ROADMAP_ITEM): roadmap_sync.on_remote_item,
    ("Add", IDEA_OUTCOME): ideas.on_outcome,
    ("Remove", ROLE_HOLDER): posts.on_add_remove,
    ("Remove", MODERATOR): posts.on_add_remove,
    ("Join", ROLE): roles.on_join,
    ("Join", EVENT): events.on_join,
    ("Leave", ROLE): roles.on_leave,
    ("Leave", EVENT): events.on_leave,
}
TYPES = tuple(dict.fromkeys(kind for kind, _ in INBOUND))


async def _roadmap_kind(app: web.Application, uri: str | None) -> str | None:
    """``roadmap_item`` / ``roadmap`` when ``uri`` names one of ours, else None."""
    items, community_id = await roadmap.items_named(app, uri)
    if community_id is not None:
        return ROADMAP
    return ROADMAP_ITEM if items else None


async def _follow(app: web.Application, activity: dict[str, Any]) -> str:
    return await _roadmap_kind(app, first_id(activity.get("object"))) or ACTOR


async def _like(app: web.Application, activity: dict[str, Any]) -> str:
    uri = first_id(activity.get("object"))
    if await _roadmap_kind(app, uri) == ROADMAP_ITEM:
        return ROADMAP_ITEM
    async with ctx_of(app).db.read() as conn:
        if await purpose_endorsements.is_local_version(conn, uri):
            return PURPOSE_VERSION
    return POST


async def _undo(app: web.Application, activity: dict[str, Any]) -> str:
    inner = activity.get("object")
    kind = type_of(inner)
    target = first_id(inner.get("object")) if isinstance(inner, dict) else None
    if kind == "Join":
        return EVENT_JOIN
    if kind in ("Follow", "Like") and await _roadmap_kind(app, target):
        return ROADMAP_FOLLOW if kind == "Follow" else ROADMAP_SUPPORT
    async with ctx_of(app).db.read() as conn:
        undone = await social.undone_kind(conn, inner)
        if undone == "Like":
            actor = await actor_by_uri(conn, first_id(activity.get("actor")))
            endorsed = await purpose_endorsements.names_endorsement(
                conn, actor.id if actor else None, target, first_id(inner)
            )
            return ENDORSEMENT if endorsed else FAVOURITE
    return {"Follow": FOLLOW, "Announce": BOOST, "Block": BLOCK}.get(undone or "", UNKNOWN)


async def _create(app: web.Application, activity: dict[str, Any]) -> str:
    inner = activity.get("object")
    if roadmap_sync.is_item(inner):
        return REMOTE_ROADMAP_ITEM
    return EVENT if type_of(inner) == "Event" else POST


async def _update(app: web.Application, activity: dict[str, Any]) -> str:
    if roles.is_role_update(activity):
        return REMOTE_ROLE
    async with ctx_of(app).db.read() as conn:
        if await roadmap_management.status_update_item(conn, activity) is not None:
            return ROADMAP_STATUS
    if roadmap_sync.is_item(activity.get("object")):
        return REMOTE_ROADMAP_ITEM
    if type_of(activity.get("object")) == "Event":
        return EVENT
    return ACTOR if posts.is_actor_update(activity) else POST


async def _delete(app: web.Application, activity: dict[str, Any]) -> str:
    return ACTOR if posts.is_actor_delete(activity) else POST


async def _announce(app: web.Application, activity: dict[str, Any]) -> str:
    # An object named by id only is fetched by the handler, which tells a post from an activity.
    return ACTIVITY if type_of(activity.get("object")) in posts.RELAYED else POST


def _add_remove_target(activity: dict[str, Any]) -> str:
    target = first_id(activity.get("target")) or ""
    if target.endswith("/moderators"):
        return MODERATOR
    return ROLE_HOLDER if target.endswith("/holders") else UNKNOWN


async def _add(app: web.Application, activity: dict[str, Any]) -> str:
    if ideas.is_outcome(activity):
        return IDEA_OUTCOME
    if roadmap_sync.is_item(activity.get("object")):
        return REMOTE_ROADMAP_ITEM
    return _add_remove_target(activity)


async def _remove(app: web.Application, activity: dict[str, Any]) -> str:
    return _add_remove_target(activity)


async def _answer(app: web.Application, activity: dict[str, Any]) -> str:
    """What an ``Accept`` / ``Reject`` answers."""
    if await roles.claim_answered(app, activity) is not None:
        return ROLE_JOIN
    async with ctx_of(app).db.read() as conn:
        if await communities.join_request_named(conn, activity) is not None:
            return JOIN_REQUEST
        target = roadmap_sync.followed_target(activity)
        if type_of(activity) == "Accept" and target is not None:
            if target == f"{first_id(activity.get('actor'))}/roadmap" or (
                await roadmap_items.item_id_by_uri(conn, target) is not None
            ):
                return ROADMAP_FOLLOW
        if await event_sync.join_answered(conn, activity) is not None:
            return EVENT_JOIN
    return FOLLOW


async def _join_leave(app: web.Application, activity: dict[str, Any]) -> str:
    role = await roles.local_role(app, first_id(activity.get("object")))
    return ROLE if role is not None else EVENT


async def _flag(app: web.Application, activity: dict[str, Any]) -> str:
    return REPORT


async def _block(app: web.Application, activity: dict[str, Any]) -> str:
    return ACTOR


CLASSIFIERS: dict[str, Callable[[web.Application, dict[str, Any]], Awaitable[str]]] = {
    "Follow": _follow,
    "Accept": _answer,
    "Reject": _answer,
    "Undo": _undo,
    "Block": _block,
    "Like": _like,
    "Flag": _flag,
    "Create": _create,
    "Update": _update,
    "Delete": _delete,
    "Announce": _announce,
    "Add": _add,
    "Remove": _remove,
    "Join": _join_leave,
    "Leave": _join_leave,
}


async def classify(app: web.Application, activity: dict[str, Any]) -> tuple[str, str]:
    """(activity type, kind of its object) of an incoming activity."""
    kind = type_of(activity) or ""
    classifier = CLASSIFIERS.get(kind)
    return kind, (await classifier(app, activity) if classifier else UNKNOWN)


def handler_for(pair: tuple[str, str]) -> Handler | None:
    """The handler the table names for a pair, if any."""
    return INBOUND.get(pair)


async def route(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Hand an incoming activity to the one handler of its pair; an unknown pair is ignored."""
    pair = await classify(app, activity)
    handler = INBOUND.get(pair)
    if handler is None:
        log.info("no handler for %s of %s (%s): ignored", *pair, activity.get("id"))
        raise Ignore("unhandled", f"no handler for {pair[0]} of {pair[1]}")
    await handler(app, activity, signer_id)


def install(app: web.Application) -> None:
    """Register ``route`` with the transport for every activity type the table knows."""
    handlers = app[INBOX_HANDLERS]
    for kind in TYPES:
        handlers.register(kind, route)
    # Plain Creates of posts ("Create", POST → posts.on_create) are applied set-wise where they can be.
    handlers.register_batch("Create", posts_batch.create_batch)
