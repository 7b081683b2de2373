"""Local domain events → outgoing activities, queued in the same transaction as the change.

Each listener is named in the outbound table (``outbound.py``) and runs inside the service's write
transaction: it builds the activity with addressing from the visibility module and calls
``federation.delivery.enqueue``.
Events about remote actors' own actions (stored by the inbox) are not re-sent.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.state import ActorExtra
from server import clock, urls
from server import event_kinds as kinds
from server.activitypub.communities.objects import purpose_object
from server.activitypub.core import convert
from server.activitypub.core.actor_updates import whole_actor_update
from server.activitypub.core.recipients import (
    group_recipients,
    post_recipients,
    remote_followers,
    send_public,
)
from server.activitypub.core.relay_dialects import from_author, group_boost, split_inboxes
from server.activitypub.core.vocab import PUBLIC
from server.activitypub.posts.objects import load_post, post_addressing
from server.context import Context
from server.events import Event
from server.services import activity_ids, community_documents, role_lookup
from server.services.actors import actor_row
from server.services.post_rows import poll_options, post_by_id

log = logging.getLogger(__name__)


def _stamp() -> str:
    return str(int(clock.now().timestamp() * 1000))


async def _followers_inboxes(conn: AsyncConnection, actor_id: int) -> list[str]:
    """The inboxes of an actor's remote followers (each shared inbox once)."""
    return await inboxes_for(conn, await remote_followers(conn, actor_id))


class Outbox:
    """The listeners, bound to one instance's context."""

    def __init__(self, ctx: Context, actor_extras: list[ActorExtra] | None = None) -> None:
        self.ctx = ctx
        # what the semantics side adds to local actor documents (federation.state.ACTOR_EXTRAS)
        self.actor_extras = actor_extras if actor_extras is not None else []

    @property
    def base(self) -> str:
        return self.ctx.base

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
            inboxes=await _followers_inboxes(conn, org_id),
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
        await self._publish(conn, post, "Update", f"{post.uri}#updates/{_stamp()}")

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

    async def _like(
        self, conn: AsyncConnection, event: Event
    ) -> tuple[dict[str, Any], Row, list[str]] | None:
        actor = await actor_row(conn, event.data["actor_id"])
        post = await post_by_id(conn, event.data["post_id"])
        if actor.domain is not None or post is None or post.local:
            return None
        op = await actor_row(conn, post.author_id)
        like_id = await activity_ids.like_id(
            conn, actor.id, post.id, f"{actor.uri}#likes/{post.id}/{_stamp()}"
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
                self.base, activity_id=f"{doc['id']}/undo/{_stamp()}", actor=actor.uri, inner=doc
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
            id=f"{target.uri}#{kind.lower()}s/{follower.id}/{_stamp()}",
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

    # --- polls, roles, purpose, profiles ------------------------------------------------------

    async def poll_voted(self, conn: AsyncConnection, event: Event) -> None:
        """A vote in a remote poll: one Create Note with the option's name per choice."""
        post = await post_by_id(conn, event.data["post_id"])
        voter = await actor_row(conn, event.data["actor_id"])
        if post is None or post.local or voter.domain is not None:
            return
        op = await actor_row(conn, post.author_id)
        options = await poll_options(conn, event.data["poll_id"])
        inboxes = await inboxes_for(conn, [op.id])
        for choice in event.data["choices"]:
            vote_id = f"{voter.uri}#votes/{event.data['poll_id']}/{choice}"
            note = {
                "id": vote_id,
                "type": "Note",
                "name": options[choice],
                "attributedTo": voter.uri,
                "inReplyTo": post.uri,
                "to": [op.uri],
            }
            doc = convert.activity(
                self.base,
                "Create",
                id=f"{vote_id}/activity",
                actor=voter.uri,
                object=note,
                to=[op.uri],
            )
            await enqueue(conn, activity=doc, actor_id=voter.id, inboxes=inboxes)

    async def role_changed(self, conn: AsyncConnection, event: Event) -> None:
        """Add/Remove the holder to the role's holders collection, sent to the community's members."""
        found = await role_lookup.role_and_group(conn, event.data["role_id"])
        if found is None or found[1].domain is not None:
            return
        role, group = found
        holder = await actor_row(conn, event.data["actor_id"])
        role_uri = role.uri or urls.role(self.base, group.username, role.id)
        kind = "Add" if event.kind == kinds.ROLE_ASSIGNED else "Remove"
        doc = convert.activity(
            self.base,
            kind,
            id=f"{role_uri}/holders#{kind.lower()}/{holder.id}/{_stamp()}",
            actor=group.uri,
            object=holder.uri,
            target={
                "id": f"{role_uri}/holders",
                "type": "Collection",
                "koers:role": role_uri,
                "name": role.name,
            },
            to=[group.followers_url],
            cc=[holder.uri],
            audience=group.uri,
        )
        inboxes = await inboxes_for(conn, [*await remote_followers(conn, group.id), holder.id])
        await enqueue(conn, activity=doc, actor_id=group.id, inboxes=inboxes)

    async def purpose_changed(self, conn: AsyncConnection, event: Event) -> None:
        """An accepted purpose version is an Update of the Group, sent to its remote members."""
        group = await community_documents.local_group(conn, event.data["community_id"])
        if group is None:
            return
        obj = await purpose_object(
            conn, self.base, event.data["community_id"], event.data["version"]
        )
        if obj is None:
            return
        await send_public(
            conn,
            self.base,
            group,
            "Update",
            activity_id=f"{obj['id']}#update",
            obj=obj,
            inboxes=await _followers_inboxes(conn, group.id),
            cc=[group.followers_url],
        )
        await self._organisation_announces_purpose(conn, obj["id"])

    async def _organisation_announces_purpose(
        self, conn: AsyncConnection, version_uri: str
    ) -> None:
        """Outsiders follow the public purpose by following the organisation: it boosts each new version."""
        digest = hashlib.sha256(version_uri.encode()).hexdigest()[:24]
        await self._organisation_boosts(conn, version_uri, f"purpose/{digest}")

    async def actor_updated(self, conn: AsyncConnection, event: Event) -> None:
        """A profile change: Update embedding the whole actor document (ActivityPub §7.3: the
        receiver replaces its copy with it; GoToSocial refuses an actor without ``publicKey``)."""
        actor = await actor_row(conn, event.data["actor_id"])
        if actor.domain is not None:
            return
        doc = await whole_actor_update(
            conn, self.base, actor, self.actor_extras, activity_id=f"{actor.uri}#updates/{_stamp()}"
        )
        await enqueue(
            conn,
            activity=doc,
            actor_id=actor.id,
            inboxes=await _followers_inboxes(conn, actor.id),
        )
