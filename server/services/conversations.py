"""Muting a conversation: no more notifications from a thread (Mastodon's status ``mute``)."""

from __future__ import annotations

import sqlalchemy as sa

from server.context import Context
from server.errors import NotFound
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from server.visibility import can_see_post


async def set_muted(ctx: Context, actor_id: int, post_id: int, muted: bool) -> None:
    """Mute or unmute the thread ``post_id`` belongs to (the post must be visible to the actor)."""
    async with ctx.db.write() as conn:
        if not await can_see_post(conn, await viewer_for_actor(conn, actor_id), post_id):
            raise NotFound("Record not found")
        root = (
            await conn.execute(
                sa.select(sa.func.coalesce(t.posts.c.thread_root_id, t.posts.c.id)).where(
                    t.posts.c.id == post_id
                )
            )
        ).scalar_one()
        cond = sa.and_(
            t.conversation_mutes.c.actor_id == actor_id,
            t.conversation_mutes.c.thread_root_id == root,
        )
        exists = (await conn.execute(sa.select(t.conversation_mutes.c.id).where(cond))).first()
        if muted and not exists:
            await conn.execute(
                t.conversation_mutes.insert().values(actor_id=actor_id, thread_root_id=root)
            )
        elif not muted and exists:
            await conn.execute(t.conversation_mutes.delete().where(cond))
