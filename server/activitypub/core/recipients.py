"""Who receives a post's activities: remote inboxes per audience (DESIGN.md, Visibility table).

``members`` never leaves; ``partners`` only reaches followers on partner hosts; ``direct`` only the
mentioned; ``community`` goes to the Group (a local Group re-announces it itself).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, follower_inboxes, inboxes_for
from server.activitypub.core import convert
from server.activitypub.core.vocab import PUBLIC
from server.services.post_rows import community_actor

# ``remote_followers`` is re-exported: the concepts' outbound builders find it here.
from server.services.remote_audience import remote_followers as remote_followers
from server.services.remote_audience import remote_mentioned, remote_parent_author
from server.services.written_post import written
from server.visibility import Audience


async def post_recipients(conn: AsyncConnection, post: Row) -> list[str]:
    """The author's Create/Update/Delete inboxes for a post (not the Group's re-announce)."""
    audience = Audience(post.audience)
    if not audience.federates:
        return []
    if audience is Audience.DIRECT:
        return await inboxes_for(conn, await remote_mentioned(conn, post.id))
    if audience is Audience.PARTNERS:
        actors = await remote_followers(conn, post.author_id, partner_hosts_only=True)
        return await inboxes_for(
            conn, actors + await remote_mentioned(conn, post.id, partner_hosts_only=True)
        )
    actors = await _remote_mentioned(conn, post.id)
    actors += await remote_parent_author(conn, post.in_reply_to_id)
    group = await community_actor(conn, post.community_id)
    if group is not None and group.domain is not None:
        actors.append(group.id)
    if audience is Audience.COMMUNITY:
        return await inboxes_for(conn, actors)
    return await follower_inboxes(conn, post.author_id, also=actors)


async def _remote_mentioned(conn: AsyncConnection, post_id: int) -> list[int]:
    """``remote_mentioned``, from the rows the transaction wrote when it has just made the post."""
    known = written(conn, post_id)
    if known is not None and known.mentioned is not None:
        return [m.id for m in known.mentioned if m.domain is not None]
    return await remote_mentioned(conn, post_id)


async def group_recipients(
    conn: AsyncConnection, post: Row, *, exclude_actor: int | None = None
) -> tuple[Row, list[str]] | None:
    """A LOCAL community's Group and its remote members' inboxes, for the Group's Announce."""
    group = await community_actor(conn, post.community_id)
    if group is None or group.domain is not None:
        return None
    members = [m for m in await remote_followers(conn, group.id) if m != exclude_actor]
    return group, await inboxes_for(conn, members)


async def send_public(
    conn: AsyncConnection,
    base: str,
    actor: Row,
    kind: str,
    *,
    activity_id: str,
    obj: Any,
    inboxes: list[str],
    cc: list[str] | None = None,
) -> None:
    """Queue the public activity ``kind`` of ``obj`` by the local ``actor`` (to everyone, ``cc``
    as given) for ``inboxes``: the organisation's boosts, a Group's Update, a suspended
    member's Delete."""
    doc = convert.activity(
        base, kind, id=activity_id, actor=actor.uri, object=obj, to=[PUBLIC], cc=cc
    )
    await enqueue(conn, activity=doc, actor_id=actor.id, inboxes=inboxes)
