"""Reports forwarded to the reported account's server as a ``Flag`` (as Mastodon does).

The Flag comes from the organisation actor (the reporter stays anonymous to the other server) and
names the account and the reported posts; the comment goes as ``content``.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server.activitypub.core import convert
from server.context import Context
from server.events import Event
from server.services import reports
from server.storage import schema as t

log = logging.getLogger(__name__)


async def report_created(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """A forwarded report of a remote account: a ``Flag`` from the organisation (in the report's transaction)."""
    if not event.data.get("forward") or ctx.organization_id is None:
        return
    report = (
        await conn.execute(sa.select(t.reports).where(t.reports.c.id == event.data["report_id"]))
    ).one()
    target = (
        await conn.execute(sa.select(t.actors).where(t.actors.c.id == report.target_id))
    ).one()
    if target.domain is None:
        return
    org = (
        await conn.execute(sa.select(t.actors).where(t.actors.c.id == ctx.organization_id))
    ).one()
    post_uris = [
        r[0]
        for r in await conn.execute(
            sa.select(t.posts.c.uri).where(t.posts.c.id.in_(report.post_ids or []))
        )
    ]
    flag = convert.activity(
        ctx.base,
        "Flag",
        id=f"{org.uri}/reports/{report.id}",
        actor=org.uri,
        object=[target.uri, *post_uris],
        content=report.comment,
    )
    await enqueue(
        conn, activity=flag, actor_id=org.id, inboxes=await inboxes_for(conn, [target.id])
    )
    await reports.remember_flag(conn, report.id, flag["id"])
