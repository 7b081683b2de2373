"""A suspended member leaves the fediverse: a ``Delete`` of the actor to every server that knows it.

Sent to the shared inboxes of the member's remote followers and of the remote accounts it follows
(as Mastodon does; the actor document answers 410 Gone from then on). Lifting the suspension sends
an ``Update`` of the whole actor (``Outbox.actor_updated``), after which servers fetch it anew.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import inboxes_for
from server import clock
from server.activitypub.core.recipients import send_public
from server.context import Context
from server.events import Event
from server.services.actors import actor_row
from server.services.remote_audience import remote_followed, remote_followers


async def actor_suspended(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """``Delete`` of a suspended local actor (in the suspension's transaction)."""
    actor = await actor_row(conn, event.data["actor_id"])
    if actor.domain is not None:
        return
    known = sorted(
        {*await remote_followers(conn, actor.id), *await remote_followed(conn, actor.id)}
    )
    inboxes = await inboxes_for(conn, known)
    if not inboxes:
        return
    stamp = int(clock.now().timestamp() * 1000)
    await send_public(
        conn,
        ctx.base,
        actor,
        "Delete",
        activity_id=f"{actor.uri}#delete/{stamp}",
        obj=actor.uri,
        inboxes=inboxes,
    )
