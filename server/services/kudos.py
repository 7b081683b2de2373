"""Kudos: recognition for a result's contributors, given as a reply that mentions the person, so it
lands in their own notifications and timeline wherever they are (a plain status in Mastodon apps)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import NotFound, ValidationError
from server.i18n.messages import Message
from server.services import posts
from server.storage import schema as t
from server.visibility import Viewer, can_see_post

log = logging.getLogger(__name__)
MAX_MESSAGE = 500


async def credited_people(conn: AsyncConnection, viewer: Viewer, result_id: int) -> list[sa.Row]:
    """The people a result credits (its contributors and author): id, username, domain."""
    if not await can_see_post(conn, viewer, result_id):
        raise NotFound("no such result")
    result = (
        await conn.execute(
            sa.select(t.posts.c.kind, t.posts.c.author_id).where(t.posts.c.id == result_id)
        )
    ).one()
    if result.kind != "result":
        raise NotFound("no such result")
    contributors = sa.select(t.result_contributors.c.actor_id).where(
        t.result_contributors.c.post_id == result_id
    )
    return list(
        await conn.execute(
            sa.select(
                t.actors.c.id, t.actors.c.username, t.actors.c.domain, t.actors.c.display_name
            )
            .where(sa.or_(t.actors.c.id.in_(contributors), t.actors.c.id == result.author_id))
            .order_by(t.actors.c.username)
        )
    )


async def give_kudos(
    ctx: Context, giver_id: int, result_id: int, to_actor_id: int, message: str = ""
) -> int:
    """Reply to a result thanking one of the people it credits; returns the reply's post id."""
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationError(
            Message("message: at most %(num)s characters", num=MAX_MESSAGE), field="message"
        )
    async with ctx.db.read() as conn:
        people = {
            p.id: p
            for p in await credited_people(
                conn, await posts.viewer_for_actor(conn, giver_id), result_id
            )
        }
    person = people.get(to_actor_id)
    if person is None:
        raise ValidationError("kudos go to someone this result credits", field="account_id")
    if person.id == giver_id:
        raise ValidationError("kudos go to someone else", field="account_id")
    handle = f"@{person.username}" + (f"@{person.domain}" if person.domain else "")
    source = f"{handle} 🙌 Kudos" + (f": {message}" if message else "!")
    return await posts.create_post(
        ctx,
        giver_id,
        posts.Draft(
            source=source, fmt="plain", in_reply_to_id=result_id, extra={"kudos_for": person.id}
        ),
    )
