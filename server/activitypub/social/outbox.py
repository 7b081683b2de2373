"""Outgoing activities between people: Like and its Undo of a remote post, Follow, its Undo and
the Accept / Reject of a remote actor's Follow, Block and its Undo. Each runs in the transaction
of the change and only enqueues (``federation.delivery.enqueue``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server import event_kinds as kinds
from server.activitypub.core import convert
from server.activitypub.core.outbox_base import OutboxBase, stamp
from server.events import Event
from server.services import activity_ids
from server.services.actors import actor_row
from server.services.post_rows import post_by_id


class SocialOutbox(OutboxBase):
    """The favourites', follows' and blocks' builders of the outbound table."""

    async def _like(
        self, conn: AsyncConnection, event: Event
    ) -> tuple[dict[str, Any], Row, list[str]] | None:
        actor = await actor_row(conn, event.data["actor_id"])
        post = await post_by_id(conn, event.data["post_id"])
        if actor.domain is not None or post is None or post.local:
            return None
        op = await actor_row(conn, post.author_id)
        like_id = await activity_ids.like_id(
            conn, actor.id, post.id, f"{actor.uri}#likes/{post.id}/{stamp()}"
        )
        doc = convert.activity(
            self.base, "Like", id=like_id, actor=actor.uri, object=post.uri, to=[op.uri]
        )
        return doc, actor, await inboxes_for(conn, [op.id])

    async def _send(
        self,
        conn: AsyncConnection,
        found: tuple[dict[str, Any], Row, list[str]] | None,
        *,
        undo: bool,
    ) -> None:
        """Queue an activity (or its Undo) built by one of the ``_*_doc`` helpers."""
        if found is None:
            return
        doc, actor, inboxes = found
        if undo:
            doc = convert.undo(
                self.base, activity_id=f"{doc['id']}/undo/{stamp()}", actor=actor.uri, inner=doc
            )
        await enqueue(conn, activity=doc, actor_id=actor.id, inboxes=inboxes)

    async def favourite_created(self, conn: AsyncConnection, event: Event) -> None:
        await self._send(conn, await self._like(conn, event), undo=False)

    async def favourite_undone(self, conn: AsyncConnection, event: Event) -> None:
        await self._send(conn, await self._like(conn, event), undo=True)

    # --- follows and blocks -------------------------------------------------------------------

    async def follow_doc(
        self, conn: AsyncConnection, follow_id: int, follower: Row, target: Row
    ) -> dict[str, Any]:
        """The Follow activity of a follows row (its id is kept in ``follows.uri``)."""
        uri = await activity_ids.follow_id(conn, follow_id, f"{follower.uri}#follows/{follow_id}")
        return convert.activity(self.base, "Follow", id=uri, actor=follower.uri, object=target.uri)

    async def follow_created(self, conn: AsyncConnection, event: Event) -> None:
        follower = await actor_row(conn, event.data["follower_id"])
        target = await actor_row(conn, event.data["target_id"])
        if follower.domain is not None or target.domain is None:
            return
        doc = await self.follow_doc(conn, event.data["follow_id"], follower, target)
        await enqueue(
            conn, activity=doc, actor_id=follower.id, inboxes=await inboxes_for(conn, [target.id])
        )

    async def send_decision(
        self,
        conn: AsyncConnection,
        kind: str,
        follower: Row,
        target: Row,
        follow_uri: str | None,
    ) -> None:
        """Accept or Reject a remote actor's Follow of a local actor."""
        follow = convert.activity(
            self.base,
            "Follow",
            id=follow_uri or f"{follower.uri}#follow",
            actor=follower.uri,
            object=target.uri,
        )
        follow.pop("@context")
        doc = convert.activity(
            self.base,
            kind,
            id=f"{target.uri}#{kind.lower()}s/{follower.id}/{stamp()}",
            actor=target.uri,
            object=follow,
            to=[follower.uri],
        )
        await enqueue(
            conn, activity=doc, actor_id=target.id, inboxes=await inboxes_for(conn, [follower.id])
        )

    async def follow_decided(self, conn: AsyncConnection, event: Event) -> None:
        follower = await actor_row(conn, event.data["follower_id"])
        target = await actor_row(conn, event.data["target_id"])
        if follower.domain is None or target.domain is not None:
            return
        kind = "Accept" if event.kind == kinds.FOLLOW_ACCEPTED else "Reject"
        await self.send_decision(conn, kind, follower, target, event.data.get("uri"))

    async def follow_undone(self, conn: AsyncConnection, event: Event) -> None:
        follower = await actor_row(conn, event.data["follower_id"])
        target = await actor_row(conn, event.data["target_id"])
        if follower.domain is not None or target.domain is None:
            return
        follow = await self.follow_doc(conn, event.data["follow_id"], follower, target)
        undo = convert.undo(
            self.base, activity_id=f"{follow['id']}#undo", actor=follower.uri, inner=follow
        )
        await enqueue(
            conn, activity=undo, actor_id=follower.id, inboxes=await inboxes_for(conn, [target.id])
        )

    async def _block_doc(
        self, conn: AsyncConnection, event: Event
    ) -> tuple[dict[str, Any], Row, list[str]] | None:
        actor = await actor_row(conn, event.data["actor_id"])
        target = await actor_row(conn, event.data["target_id"])
        if actor.domain is not None or target.domain is None:
            return None
        doc = convert.activity(
            self.base,
            "Block",
            id=f"{actor.uri}#blocks/{target.id}",
            actor=actor.uri,
            object=target.uri,
        )
        return doc, actor, await inboxes_for(conn, [target.id])

    async def block_created(self, conn: AsyncConnection, event: Event) -> None:
        await self._send(conn, await self._block_doc(conn, event), undo=False)

    async def block_undone(self, conn: AsyncConnection, event: Event) -> None:
        await self._send(conn, await self._block_doc(conn, event), undo=True)
