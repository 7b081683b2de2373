"""The ``Update`` of a local actor: always the whole actor document, never a part of it.

ActivityPub §7.3 has the receiver replace its copy with the object supplied. GoToSocial does so and
refuses an actor without ``publicKey``; Mastodon reads the profile (name, bio, fields) from it.
So a profile change (``Outbox.actor_updated``) and a Group telling its members that its purpose
process moved (``purpose/activities.send_group_update``) embed the same document a fetch answers,
built inside the transaction that changed it. Koers receivers refetch the actor either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.documents import render_actor
from federation.state import ActorExtra
from server.activitypub.core import convert
from server.activitypub.core.vocab import PUBLIC


async def whole_actor_update(
    conn: AsyncConnection,
    base: str,
    actor: Row,
    extras: list[ActorExtra],
    *,
    activity_id: str,
) -> dict[str, Any]:
    """The ``Update`` by the local ``actor`` of itself, embedding its whole document (with the
    terms ``extras`` add), addressed to the public and its followers."""
    document = await render_actor(conn, base, actor, extras)
    return convert.activity(
        base,
        "Update",
        id=activity_id,
        actor=actor.uri,
        object={k: v for k, v in document.items() if k != "@context"},
        to=[PUBLIC],
        cc=[actor.followers_url],
    )
