"""The purpose process over ActivityPub.

- Proposals and consent answers are posts with ``koers:proposal`` / ``koers:consent`` terms; the
  listener ``purpose_proposals.index_post`` indexes them on ``post.created`` and ``post.received``.
- A decision poll is an ordinary poll post (a ``Question``): Mastodon-style votes need nothing new.
- Endorsing the purpose in force is a ``Like`` of the purpose version's id: sent here when a local
  member endorses a community on another instance, recorded by ``on_like`` when one arrives.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server.activitypub import convert
from server.context import Context
from server.events import Event
from server.services.purpose_proposals import index_post
from server.storage import schema as t


def register(ctx: Context) -> None:
    """Hook the purpose listeners onto the event hub (in-transaction)."""
    ctx.events.on("post.created", index_post)
    ctx.events.on("post.received", index_post)

    async def endorsed(conn: AsyncConnection, event: Event) -> None:
        await send_endorsement(ctx, conn, event)

    ctx.events.on("purpose.endorsed", endorsed)


async def send_endorsement(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """A local member endorsed a remote community's purpose: ``Like`` of the version, to the Group."""
    row = (
        await conn.execute(
            sa.select(t.purpose_versions.c.uri, t.actors.c.id.label("group_id"), t.actors.c.uri.label("group_uri"))
            .join(t.communities, t.communities.c.id == t.purpose_versions.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.purpose_versions.c.id == event.data["purpose_version_id"], t.actors.c.domain.is_not(None))
        )
    ).first()  # fmt: skip
    actor = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == event.data["actor_id"]))).first()
    if row is None or row.uri is None or actor is None or actor.domain is not None:
        return
    doc = convert.activity(
        ctx.base, "Like", id=f"{actor.uri}#endorsements/{event.data['purpose_version_id']}", actor=actor.uri,
        object=row.uri, to=[row.group_uri],
    )  # fmt: skip
    await enqueue(conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [row.group_id]))
