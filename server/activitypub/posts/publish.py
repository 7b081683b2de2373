"""Outgoing activities of local posts and boosts: the Create / Update / Delete of a post to its
recipients, the Group's Announce of a member's post (FEP-1b12), the organisation's boosts of
public results and community posts, and the Announce / Undo of a boost. Each runs in the
transaction of the change and only enqueues (``federation.delivery.enqueue``); a new post's rows
come from its write unit (``services/written_post.py``), so the Create reads nothing back.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server.activitypub.core import convert
from server.activitypub.core.outbox_base import OutboxBase, followers_inboxes, stamp
from server.activitypub.core.recipients import (
    group_recipients,
    post_recipients,
    remote_followers,
    send_public,
)
from server.activitypub.core.relay_dialects import from_author, group_boost, split_inboxes
from server.activitypub.core.vocab import PUBLIC
from server.activitypub.posts.objects import load_post, post_addressing
from server.events import Event
from server.services.actors import actor_row
from server.services.post_rows import post_by_id


class PostOutbox(OutboxBase):
    """The posts' and boosts' builders of the outbound table."""

    # --- posts --------------------------------------------------------------------------------

    async def _publish(
        self, conn: AsyncConnection, post: Row, kind: str, activity_id: str
    ) -> dict[str, Any] | None:
        """Create/Update of a local post to its recipients, and the Group's / organisation's Announce."""
        parts = await load_post(conn, self.base, self.ctx.settings.domain, post.id)
        doc = convert.wrap_post(
            self.base, kind, convert.to_object(parts, self.base), activity_id=activity_id
        )
        await enqueue(
            conn,
            activity=doc,
            actor_id=post.author_id,
            inboxes=await post_recipients(conn, post),
            actor_uri=parts.author_uri,
        )
        await self.announce_by_group(conn, post, doc)
        return doc

    async def announce_by_group(
        self, conn: AsyncConnection, post: Row, inner: dict[str, Any]
    ) -> None:
        """FEP-1b12: a local community's Group Announces a member's activity to its remote members."""
        if post.audience not in ("community", "public", "unlisted"):
            return
        found = await group_recipients(conn, post)
        if found is None:
            return
        group, inboxes = found
        body = {k: v for k, v in inner.items() if k != "@context"}
        digest = hashlib.sha256(str(inner["id"]).encode()).hexdigest()[:24]
        to = [group.followers_url] if post.audience == "community" else [PUBLIC]
        announce = convert.activity(
            self.base,
            "Announce",
            id=f"{group.uri}/announces/{digest}",
            actor=group.uri,
            object=body,
            to=to,
            cc=[group.followers_url] if post.audience != "community" else [],
            audience=group.uri,
        )
        by_activity, by_object = await split_inboxes(conn, inboxes)
        await enqueue(conn, activity=announce, actor_id=group.id, inboxes=by_activity)
        boost = group_boost(self.base, group.uri, body, to=to, cc=announce.get("cc"))
        if boost is not None:
            await enqueue(conn, activity=boost, actor_id=group.id, inboxes=by_object)
        if post.local and from_author(body):
            await enqueue(conn, activity=inner, actor_id=post.author_id, inboxes=by_object)

    async def _organisation_announce(self, conn: AsyncConnection, post: Row) -> None:
        """The Organization actor boosts public results and community posts to its followers."""
        if post.audience != "public" or not (
            post.kind == "result" or post.community_id is not None
        ):
            return
        await self._organisation_boosts(conn, post.uri, str(post.id))

    async def _organisation_boosts(self, conn: AsyncConnection, uri: str, announce: str) -> None:
        """The organisation's ``Announce`` (id ``…/announces/{announce}``) of ``uri`` to its
        followers: how outsiders who follow the organisation hear of results and purposes."""
        org_id = self.ctx.organization_id
        if org_id is None:
            return
        org = await actor_row(conn, org_id)
        await send_public(
            conn,
            self.base,
            org,
            "Announce",
            activity_id=f"{org.uri}/announces/{announce}",
            obj=uri,
            inboxes=await followers_inboxes(conn, org_id),
            cc=[org.followers_url],
        )

    async def post_created(self, conn: AsyncConnection, event: Event) -> None:
        post = await post_by_id(conn, event.data["post_id"])
        if post is None or not post.local or post.reblog_of_id or post.audience == "members":
            return
        await self._publish(conn, post, "Create", f"{post.uri}/activity")
        await self._organisation_announce(conn, post)

    async def post_updated(self, conn: AsyncConnection, event: Event) -> None:
        post = await post_by_id(conn, event.data["post_id"])
        if post is None or not post.local or post.audience == "members":
            return
        await self._publish(conn, post, "Update", f"{post.uri}#updates/{stamp()}")

    async def post_deleted(self, conn: AsyncConnection, event: Event) -> None:
        post = await post_by_id(conn, event.data["post_id"])
        if post is None or not post.local or post.audience == "members":
            return
        author = await actor_row(conn, post.author_id)
        if post.reblog_of_id:
            await self._undo_announce(conn, post, author)
            return
        address = await post_addressing(conn, self.base, post)
        if address is None:
            return
        doc = convert.delete_post(
            self.base,
            activity_id=f"{post.uri}#delete",
            actor=author.uri,
            uri=post.uri,
            addressing=address,
        )
        await enqueue(
            conn, activity=doc, actor_id=author.id, inboxes=await post_recipients(conn, post)
        )
        await self.announce_by_group(conn, post, doc)

    # --- boosts and likes ---------------------------------------------------------------------

    async def _announce_doc(
        self, conn: AsyncConnection, boost: Row, author: Row
    ) -> tuple[dict[str, Any], list[str]]:
        original = await post_by_id(conn, boost.reblog_of_id)
        assert original is not None
        op = await actor_row(conn, original.author_id)
        to = [PUBLIC] if boost.audience == "public" else [author.followers_url]
        cc = [author.followers_url, op.uri] if boost.audience == "public" else [PUBLIC, op.uri]
        doc = convert.activity(
            self.base,
            "Announce",
            id=boost.uri,
            actor=author.uri,
            object=original.uri,
            to=to,
            cc=cc,
            published=None,
        )
        inbox_actors = await remote_followers(conn, author.id)
        if op.domain is not None:
            inbox_actors.append(op.id)
        return doc, await inboxes_for(conn, inbox_actors)

    async def reblog_created(self, conn: AsyncConnection, event: Event) -> None:
        boost = await post_by_id(conn, event.data["post_id"])
        if boost is None or not boost.local:
            return
        author = await actor_row(conn, boost.author_id)
        doc, inboxes = await self._announce_doc(conn, boost, author)
        await enqueue(conn, activity=doc, actor_id=author.id, inboxes=inboxes)

    async def _undo_announce(self, conn: AsyncConnection, boost: Row, author: Row) -> None:
        doc, inboxes = await self._announce_doc(conn, boost, author)
        undo = convert.undo(self.base, activity_id=f"{boost.uri}#undo", actor=author.uri, inner=doc)
        await enqueue(conn, activity=undo, actor_id=author.id, inboxes=inboxes)
