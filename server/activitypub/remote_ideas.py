"""Ideas across instances: what becomes of an idea from another instance, and supports from there.

A member on a partner instance submits an idea to a remote community with ``ideas.submit_idea``:
the post marked ``koers:idea`` goes to the Group and the community's home files it in its idea box
(``incoming_posts``); the partner instance keeps its own ``ideas`` row of it (the author's list).

- **Outcome (home side).** When managers merge, decline or promote an idea whose author lives on
  another instance, the Group sends that author an ``Add`` of the idea's post with
  ``koers:outcome`` (``roadmap`` | ``proposal`` | ``merged`` | ``declined``) and ``target`` (the
  roadmap item, the proposal, or the idea it was merged into). The manager's reply that mentions
  the author (``idea_outcomes.tell_author``) is what the author reads in any app.
- **Outcome (partner side).** That ``Add`` updates the partner instance's ``ideas`` row, so its
  idea pages show the state the home reports.
- **Supports.** A member's ``Like`` of an idea post counts as a support at home. A remote author's
  post is liked through the ordinary outbox; a like of one of *our own* members' idea posts for a
  remote community would stay here, so it is sent to the Group as well.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server.activitypub import convert
from server.activitypub.incoming_common import actor_row, ctx_of, the_actor
from server.activitypub.vocab import first_id, koers
from server.context import Context
from server.events import Event
from server.storage import schema as t

log = logging.getLogger(__name__)
Handler = Any
OUTCOMES = {
    "roadmap": "promoted",
    "proposal": "promoted",
    "merged": "merged",
    "declined": "declined",
}


async def _post_uri(conn: AsyncConnection, post_id: int | None) -> str | None:
    if post_id is None:
        return None
    return (await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.id == post_id))).scalar()


async def _target(conn: AsyncConnection, idea: sa.Row, outcome: str) -> str | None:
    """The id of what the idea became (an item, a proposal's post, the idea it was merged into)."""
    if outcome == "roadmap":
        return (
            await conn.execute(
                sa.select(t.roadmap_items.c.uri).where(t.roadmap_items.c.id == idea.promoted_to_id)
            )
        ).scalar()
    if outcome == "proposal":
        post_id = (
            await conn.execute(
                sa.select(t.purpose_proposals.c.post_id).where(
                    t.purpose_proposals.c.id == idea.promoted_to_id
                )
            )
        ).scalar()
        return await _post_uri(conn, post_id)
    if outcome == "merged":
        kept = (
            await conn.execute(
                sa.select(t.ideas.c.post_id).where(t.ideas.c.id == idea.merged_into_id)
            )
        ).scalar()
        return await _post_uri(conn, kept)
    return None


class IdeaOutcomeOutbox:
    """Home side: tell a remote author's instance what became of their idea (in-transaction)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(self) -> None:
        """Listen to the idea box's decisions."""
        self.ctx.events.on("idea.promoted", self.decided)
        self.ctx.events.on("idea.merged", self.decided)
        self.ctx.events.on("idea.declined", self.decided)

    async def decided(self, conn: AsyncConnection, event: Event) -> None:
        """Send ``Add`` (with ``koers:outcome``) of the idea's post to its remote author."""
        idea = (
            await conn.execute(sa.select(t.ideas).where(t.ideas.c.id == event.data["idea_id"]))
        ).first()
        if idea is None:
            return
        author = await actor_row(conn, idea.author_id)
        post_uri = await _post_uri(conn, idea.post_id)
        if author.domain is None or post_uri is None:
            return
        outcome = event.data.get("target_kind") or (
            "merged" if event.kind == "idea.merged" else "declined"
        )
        group = (
            await conn.execute(
                sa.select(t.actors)
                .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
                .where(t.communities.c.id == idea.community_id)
            )
        ).one()
        extra: dict[str, Any] = {"koers:outcome": outcome}
        doc = convert.activity(
            self.ctx.base,
            "Add",
            id=f"{group.uri}#ideas/{idea.id}/{outcome}",
            actor=group.uri,
            object=post_uri,
            target=await _target(conn, idea, outcome) or group.uri,
            to=[author.uri],
            **extra,
        )
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, [author.id])
        )


def wrap_add(previous: Handler) -> Handler:
    """Add handler, partner side: a Group reports the outcome of one of our members' ideas."""

    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        outcome = koers(activity, "outcome")
        if outcome not in OUTCOMES:
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        async with ctx_of(app).db.write() as conn:
            idea = (
                await conn.execute(
                    sa.select(t.ideas.c.id)
                    .join(t.posts, t.posts.c.id == t.ideas.c.post_id)
                    .join(t.communities, t.communities.c.id == t.ideas.c.community_id)
                    .where(
                        t.posts.c.uri == first_id(activity.get("object")),
                        t.posts.c.local.is_(True),
                        t.communities.c.actor_id == actor_id,
                        t.communities.c.local.is_(False),
                    )
                )
            ).scalar()
            if idea is None:
                raise Ignore("unknown_idea", "no idea of ours in that community")
            values: dict[str, Any] = {"status": OUTCOMES[outcome], "updated_at": clock.now()}
            if outcome == "roadmap":
                item = (
                    await conn.execute(
                        sa.select(t.roadmap_items.c.id).where(
                            t.roadmap_items.c.uri == first_id(activity.get("target"))
                        )
                    )
                ).scalar()
                values |= {"promoted_kind": "roadmap", "promoted_to_id": item}
            elif outcome == "proposal":
                values["promoted_kind"] = "proposal"
            await conn.execute(t.ideas.update().where(t.ideas.c.id == idea).values(**values))
        log.info("idea %s: %s (reported by its community)", idea, outcome)

    return handle


class RemoteIdeaLikes:
    """Partner side: a like of one of our members' idea posts for a remote community goes to its Group."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(self) -> None:
        """Listen to favourites."""
        self.ctx.events.on("favourite.created", self.liked)
        self.ctx.events.on("favourite.undone", self.unliked)

    async def _send(self, conn: AsyncConnection, event: Event, undo: bool) -> None:
        found = (
            await conn.execute(
                sa.select(
                    t.posts.c.uri,
                    t.actors.c.id.label("group_id"),
                    t.actors.c.uri.label("group_uri"),
                )
                .join(t.ideas, t.ideas.c.post_id == t.posts.c.id)
                .join(t.communities, t.communities.c.id == t.ideas.c.community_id)
                .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
                .where(
                    t.posts.c.id == event.data["post_id"],
                    t.posts.c.local.is_(True),
                    t.actors.c.domain.is_not(None),
                )
            )
        ).first()
        actor = await actor_row(conn, event.data["actor_id"])
        if found is None or actor.domain is not None:
            return
        stamp = int(clock.now().timestamp() * 1000)
        doc = convert.activity(
            self.ctx.base,
            "Like",
            id=f"{actor.uri}#likes/{event.data['post_id']}/{stamp}",
            actor=actor.uri,
            object=found.uri,
            to=[found.group_uri],
        )
        if undo:
            doc = convert.undo(
                self.ctx.base, activity_id=f"{doc['id']}/undo", actor=actor.uri, inner=doc
            )
        await enqueue(
            conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [found.group_id])
        )

    async def liked(self, conn: AsyncConnection, event: Event) -> None:
        await self._send(conn, event, undo=False)

    async def unliked(self, conn: AsyncConnection, event: Event) -> None:
        await self._send(conn, event, undo=True)


def install(app: web.Application, handlers: Any) -> None:
    """Wrap Add for idea outcomes and register the outgoing listeners of both sides."""
    handlers.register("Add", wrap_add(handlers.get("Add")))
    IdeaOutcomeOutbox(ctx_of(app)).register()
    RemoteIdeaLikes(ctx_of(app)).register()
