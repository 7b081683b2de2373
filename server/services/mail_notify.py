"""Notification e-mails: some notifications are also mailed, as the member chose.

Called in the notification's transaction, so a notification that was rolled back is never mailed;
the message is rendered when it is sent (``mail_render``), and dropped if its post is gone by then.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import mail_members, mail_queue
from server.storage import schema as t
from server.visibility import Viewer, can_see_post

# notification type → kind of e-mail (``mail_members.NOTIFY_DEFAULTS``); a mention in a direct
# post is a "direct" mail.
MAILED_AS = {
    "mention": "mention",
    "koers.join_request": "join_request",
    "koers.join_approved": "approval",
    "koers.decision_opened": "decision_opened",
}


async def kind_of(conn: AsyncConnection, type_: str, post_id: int | None) -> str | None:
    """The kind of e-mail a notification is, or None when no e-mail is ever sent for it."""
    kind = MAILED_AS.get(type_)
    if kind == "mention" and post_id is not None:
        audience = (
            await conn.execute(sa.select(t.posts.c.audience).where(t.posts.c.id == post_id))
        ).scalar()
        if audience == "direct":
            return "direct"
    return kind


async def enqueue(
    conn: AsyncConnection, notification_id: int, actor_id: int, type_: str, post_id: int | None
) -> bool:
    """Queue the e-mail of a new notification when the member wants it; whether it was queued."""
    kind = await kind_of(conn, type_, post_id)
    if kind is None:
        return False
    user_id = (
        await conn.execute(
            sa.select(t.users.c.id).where(
                t.users.c.actor_id == actor_id, t.users.c.state == "active"
            )
        )
    ).scalar()
    if user_id is None or not await mail_members.wants(conn, user_id, kind):
        return False
    if post_id is not None and not await can_see_post(
        conn, Viewer(actor_id=actor_id, local=True), post_id
    ):
        return False
    await mail_queue.enqueue(
        conn,
        "notification",
        user_id=user_id,
        params={"notification_id": notification_id, "kind": kind},
    )
    return True
