"""The Group's answer to a ``Join``: ``Accept`` or ``Reject``, for events and roles alike.

A remote person joins a local event (Mobilizon, FEP-8a8e) or claims a local role with a ``Join``;
the community's Group answers them with one builder, naming the ``Join`` it answers.
"""

from __future__ import annotations

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server.activitypub.core import convert


async def send_join_answer(
    conn: AsyncConnection,
    base: str,
    *,
    group: Row,
    actor: Row,
    kind: str,
    answer_id: str,
    join_id: str,
    joined: str,
) -> None:
    """Enqueue the Group's ``kind`` (``Accept`` / ``Reject``) of ``actor``'s ``Join`` ``join_id``
    of ``joined`` (an event's or a role's id), as ``answer_id``, to the actor (in-transaction)."""
    join = {"id": join_id, "type": "Join", "actor": actor.uri, "object": joined}
    doc = convert.activity(base, kind, id=answer_id, actor=group.uri, object=join, to=[actor.uri])
    await enqueue(
        conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, [actor.id])
    )
