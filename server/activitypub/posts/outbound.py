"""Local domain events → outgoing activities, queued in the same transaction as the change.

Each listener is named in the outbound table (``outbound.py``) and runs inside the service's write
transaction: it builds the activity with addressing from the visibility module and calls
``federation.delivery.enqueue``.
Events about remote actors' own actions (stored by the inbox) are not re-sent.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server import event_kinds as kinds
from server import urls
from server.activitypub.communities.objects import purpose_object
from server.activitypub.core import convert
from server.activitypub.core.actor_updates import whole_actor_update
from server.activitypub.core.outbox_base import followers_inboxes, stamp
from server.activitypub.core.recipients import (
    remote_followers,
    send_public,
)
from server.activitypub.posts.publish import PostOutbox
from server.activitypub.social.outbox import SocialOutbox
from server.events import Event
from server.services import community_documents, role_lookup
from server.services.actors import actor_row
from server.services.post_rows import poll_options, post_by_id


class Outbox(PostOutbox, SocialOutbox):
    """Every builder of the outbound table that is not a concept's own outbox: the posts' and
    boosts' (``posts/publish.py``), the favourites', follows' and blocks'
    (``social/outbox.py``) and, here, the poll votes', roles', purpose's and profiles'."""

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
            id=f"{role_uri}/holders#{kind.lower()}/{holder.id}/{stamp()}",
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
            inboxes=await followers_inboxes(conn, group.id),
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
            conn, self.base, actor, self.actor_extras, activity_id=f"{actor.uri}#updates/{stamp()}"
        )
        await enqueue(
            conn,
            activity=doc,
            actor_id=actor.id,
            inboxes=await followers_inboxes(conn, actor.id),
        )
