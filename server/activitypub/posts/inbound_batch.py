"""Plain ``Create`` activities applied together: the inbox worker's batch path for new posts.

``on_create`` (``inbound.py``) applies one activity in about twenty statements. Most of what
reaches an inbox is simpler than everything it provides for: a known, fresh actor creating its
own post, embedded, outside any community, no poll, not a result, not a vote. ``create_batch``
takes the leading run of such activities of each lane of a worker cycle and applies them in one
write block with set-wise statements (``services/remote_posts_batch.py``). Anything else ends its
lane's run there: it and what follows it in that lane go one by one through ``on_create`` and the
other handlers, in order, so the outcome is the one each activity would have had alone.

What is read from the document (its HTML sanitised, its content bounded) is worked out before the
write block; the block reads the actors, posts and communities the whole batch names in one
statement each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from federation import limits
from federation.actors import REFRESH_AFTER
from server import clock
from server import event_kinds as kinds
from server.activitypub.core.common import ctx_of
from server.activitypub.core.ingest import (
    audience_among,
    content_of,
    named_communities,
    remote_post_of,
)
from server.activitypub.core.vocab import POST_TYPES, first_id, koers, same_origin, type_of
from server.activitypub.roadmap.sync import is_item
from server.services import notifications, remote_posts, remote_posts_batch
from server.services.remote_posts import RemoteContent
from server.services.remote_posts_batch import NewPost

_BATCHED_TYPES = tuple(kind for kind in POST_TYPES if kind != "Event")  # Events: event_sync


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a plain ``Create`` says, read before the write block."""

    signer_id: int
    actor_uri: str
    obj: dict[str, Any]
    content: RemoteContent
    parent_uri: str | None
    named: frozenset[str]


def _plan(row: Any) -> _Plan | None:
    """The plan of a stored ``Create`` that ``on_create`` would store as a plain post without
    fetching anything; None for anything else (that activity goes one by one)."""
    doc = row.document
    if not isinstance(doc, dict) or type_of(doc) != "Create" or row.signer_id is None:
        return None
    obj, actor_uri = doc.get("object"), first_id(doc.get("actor"))
    if not isinstance(obj, dict) or not actor_uri or "#" in actor_uri:
        return None
    uri = obj.get("id")
    if not isinstance(uri, str) or not uri or not same_origin(uri, actor_uri):
        return None  # to be fetched from its origin
    if is_item(obj) or type_of(obj) not in _BATCHED_TYPES:
        return None  # a roadmap item, an event, or nothing we store
    if (first_id(obj.get("attributedTo")) or actor_uri) != actor_uri:
        return None  # ignored by on_create, with its reason
    parent_uri = first_id(obj.get("inReplyTo"))
    if obj.get("audience") is not None or (parent_uri and obj.get("name")):
        return None  # a community to resolve; a possible poll vote
    if koers(obj, "result") is True or type_of(obj) == "Question":
        return None  # a result's links; a poll
    try:
        limits.check_post(obj)
    except limits.OverLimit:
        return None
    return _Plan(
        int(row.signer_id),
        actor_uri,
        obj,
        content_of(obj),
        parent_uri,
        frozenset(named_communities(obj)),
    )


async def create_batch(app: web.Application, lanes: list[list[Any]]) -> list[int]:
    """Apply the leading plain ``Create`` activities of each lane together; how many of each
    lane's rows were applied (see the module docstring)."""
    plans = [_leading(lane) for lane in lanes]
    if not any(plans):
        return [0] * len(lanes)
    every = [p for run in plans for p in run]
    ctx = ctx_of(app)
    events = []
    async with ctx.db.write() as conn:
        actors = await remote_posts_batch.actors_by_uri(conn, {p.actor_uri for p in every})
        posts = await remote_posts_batch.posts_by_uri(
            conn, {p.obj["id"] for p in every} | {p.parent_uri for p in every if p.parent_uri}
        )
        communities = await remote_posts.communities_named(
            conn, {u for p in every for u in p.named}
        )
        counts = _usable(plans, actors, posts, set(communities))
        batch = [
            (p, actors[p.actor_uri])
            for run, count in zip(plans, counts, strict=True)
            for p in run[:count]
        ]
        new = [
            NewPost(
                author.id,
                remote_post_of(
                    p.obj, audience_among(p.obj, author, {})[0], None, content=p.content
                ),
                posts.get(p.parent_uri) if p.parent_uri else None,
            )
            for p, author in batch
        ]
        stored = await remote_posts_batch.store_posts(conn, new)
        await notifications.for_new_posts(
            conn,
            [
                (
                    s.post_id,
                    n.author_id,
                    n.post.audience,
                    s.mentioned,
                    n.parent.author_id if n.parent is not None else None,
                )
                for s, n in zip(stored, new, strict=True)
            ],
        )
        events = await ctx.events.emit_many(
            conn,
            kinds.POST_RECEIVED,
            [
                {"post_id": s.post_id, "author_id": n.author_id}
                for s, n in zip(stored, new, strict=True)
            ],
        )
    if events:
        await ctx.events.committed(*events)
    return counts


def _leading(lane: list[Any]) -> list[_Plan]:
    """The plans of the lane's leading plain ``Create`` activities."""
    out: list[_Plan] = []
    for row in lane:
        plan = _plan(row)
        if plan is None:
            break
        out.append(plan)
    return out


def _usable(
    plans: list[list[_Plan]], actors: dict[str, Any], posts: dict[str, Any], communities: set[str]
) -> list[int]:
    """How many leading plans of each lane the batch may apply, now that it knows the rows they
    name: a fresh remote actor that signed, a post not stored yet (nor earlier in the batch), no
    community named, a parent (if any) held outside communities and not in the batch."""
    objects = {p.obj["id"] for run in plans for p in run}
    taken: set[str] = set()
    now = clock.now()
    counts: list[int] = []
    for run in plans:
        count = 0
        for p in run:
            uri = p.obj["id"]
            actor = actors.get(p.actor_uri)
            parent = posts.get(p.parent_uri) if p.parent_uri else None
            if (
                actor is None
                or actor.domain is None
                or actor.id != p.signer_id
                or actor.fetched_at is None
                or now - clock.aware(actor.fetched_at) >= REFRESH_AFTER
                or uri in posts
                or uri in taken
                or p.named & communities
                or (p.parent_uri in objects)
                or (parent is not None and parent.community_id is not None)
            ):
                break
            taken.add(uri)
            count += 1
        counts.append(count)
    return counts
