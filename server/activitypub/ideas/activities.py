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

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server import event_kinds as kinds
from server.activitypub.core import convert
from server.activitypub.core.common import actor_row, ctx_of, the_actor
from server.activitypub.core.vocab import first_id, koers
from server.context import Context
from server.errors import NotFound
from server.events import Event
from server.services import idea_lookup, post_rows, remote_ideas

log = logging.getLogger(__name__)
OUTCOMES = {
    "roadmap": "promoted",
    "proposal": "promoted",
    "merged": "merged",
    "declined": "declined",
}


class IdeaOutcomeOutbox:
    """Home side: tell a remote author's instance what became of their idea (in-transaction)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def decided(self, conn: AsyncConnection, event: Event) -> None:
        """Send ``Add`` (with ``koers:outcome``) of the idea's post to its remote author."""
        idea = await idea_lookup.idea_row(conn, event.data["idea_id"])
        if idea is None:
            return
        author = await actor_row(conn, idea.author_id)
        post_uri = await idea_lookup.post_uri(conn, idea.post_id)
        if author.domain is None or post_uri is None:
            return
        outcome = event.data.get("target_kind") or (
            "merged" if event.kind == kinds.IDEA_MERGED else "declined"
        )
        group = await post_rows.community_actor(conn, idea.community_id)
        if group is None:
            return
        extra: dict[str, Any] = {"koers:outcome": outcome}
        doc = convert.activity(
            self.ctx.base,
            "Add",
            id=f"{group.uri}#ideas/{idea.id}/{outcome}",
            actor=group.uri,
            object=post_uri,
            target=await idea_lookup.outcome_target(conn, idea, outcome) or group.uri,
            to=[author.uri],
            **extra,
        )
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, [author.id])
        )


def is_outcome(activity: dict[str, Any]) -> bool:
    """Is this ``Add`` a Group's report of what became of an idea?"""
    return koers(activity, "outcome") in OUTCOMES


async def on_outcome(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Add`` with ``koers:outcome``, partner side: a Group reports the outcome of our member's idea
    (``remote_ideas.receive_outcome``)."""
    outcome = koers(activity, "outcome")
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        try:
            idea = await remote_ideas.receive_outcome(
                conn,
                actor_id,
                first_id(activity.get("object")),
                OUTCOMES[outcome],
                outcome,
                first_id(activity.get("target")),
            )
        except NotFound as exc:
            raise Ignore("unknown_idea", exc.message) from None
    log.info("idea %s: %s (reported by its community)", idea, outcome)


class RemoteIdeaLikes:
    """Partner side: a like of one of our members' idea posts for a remote community goes to its Group."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def _send(self, conn: AsyncConnection, event: Event, undo: bool) -> None:
        found = await idea_lookup.remote_idea_home(conn, event.data["post_id"])
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
