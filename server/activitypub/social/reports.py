"""Reports forwarded to the reported account's server as a ``Flag`` (as Mastodon does).

The Flag comes from the organisation actor (the reporter stays anonymous to the other server) and
names the account and the reported posts; the comment goes as ``content``.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from server.activitypub.core import convert
from server.context import Context
from server.events import Event
from server.services import reports
from server.services.actors import actor_row

log = logging.getLogger(__name__)


async def report_created(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """A forwarded report of a remote account: a ``Flag`` from the organisation (in the report's transaction)."""
    if not event.data.get("forward") or ctx.organization_id is None:
        return
    report = await reports.get_report(conn, event.data["report_id"])
    target = await actor_row(conn, report.target_id)
    if target.domain is None:
        return
    org = await actor_row(conn, ctx.organization_id)
    post_uris = await reports.reported_post_uris(conn, report)
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
