"""Reports of accounts and posts by local members (the client API's ``POST /api/v1/reports``).

A report is a ``reports`` row and a ``koers.report`` notification for the instance's admins and the
managers of the communities the reported posts belong to. With ``forward`` and a remote target, the
``report.created`` event lets federation send a ``Flag`` to the target's server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import NotFound, ValidationError
from server.i18n.messages import Message
from server.services import notifications
from server.services.follows import community_managers
from server.services.posts import viewer_for_actor
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import can_see_post

log = logging.getLogger(__name__)
MAX_COMMENT = 1000
MAX_POSTS = 20


@dataclass(frozen=True)
class ReportRequest:
    """What a member reports: an account, some of its posts, a comment, whether to tell its server."""

    target_id: int
    post_ids: tuple[int, ...] = ()
    comment: str = ""
    forward: bool = False


async def notify_moderators(
    conn: AsyncConnection, report_id: int, reporter_id: int | None, community_ids: set[int]
) -> None:
    """``koers.report`` for every admin and the managers of the communities concerned."""
    recipients = {
        r[0]
        for r in await conn.execute(
            sa.select(t.users.c.actor_id).where(
                t.users.c.is_admin.is_(True), t.users.c.state == "active"
            )
        )
    }
    for managed_id in community_ids:
        recipients |= set(await community_managers(conn, managed_id))
    community_id = min(community_ids) if community_ids else None
    for actor_id in sorted(recipients):
        await notifications.notify(
            conn,
            actor_id,
            "koers.report",
            from_actor_id=reporter_id,
            community_id=community_id,
            extra={"report_id": report_id},
        )


async def receive_report(
    conn: AsyncConnection,
    reporter_id: int,
    named: list[str],
    comment: str,
    uri: str | None,
) -> int:
    """A report from another server (a ``Flag`` naming accounts and posts by id); returns its id.

    The target is the person named (else the first post's author), the community the one a named
    post or Group belongs to; admins and that community's managers are told. NotFound when the
    report names nothing we know.
    """
    actors = (
        list(await conn.execute(sa.select(t.actors).where(t.actors.c.uri.in_(named))))
        if named
        else []
    )
    posts = (
        list(await conn.execute(sa.select(t.posts).where(t.posts.c.uri.in_(named))))
        if named
        else []
    )
    if not actors and not posts:
        raise NotFound("the report names nothing we know")
    target = next((a for a in actors if a.kind != "group"), None)
    target_id = target.id if target else (posts[0].author_id if posts else None)
    community_ids = {p.community_id for p in posts if p.community_id}
    for group in (a for a in actors if a.kind == "group"):
        community = (
            await conn.execute(
                sa.select(t.communities.c.id)
                .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
                .where(t.communities.c.actor_id == group.id, t.actors.c.domain.is_(None))
            )
        ).scalar()
        if community is not None:
            community_ids.add(community)
    community_id = next(iter(community_ids), None)
    res = await conn.execute(
        t.reports.insert().values(
            reporter_id=reporter_id,
            target_id=target_id,
            community_id=community_id,
            post_ids=[p.id for p in posts],
            comment=comment[:5000],
            uri=uri,
            created_at=clock.now(),
        )
    )
    report_id = inserted_id(res)
    await notify_moderators(conn, report_id, reporter_id, {community_id} if community_id else set())
    return report_id


async def remember_flag(conn: AsyncConnection, report_id: int, uri: str) -> None:
    """A forwarded report went out as the ``Flag`` ``uri``."""
    await conn.execute(t.reports.update().where(t.reports.c.id == report_id).values(uri=uri))


async def reported_post_uris(conn: AsyncConnection, report: sa.Row) -> list[str]:
    """The ActivityPub ids of the posts a report names (for the ``Flag`` that forwards it)."""
    return [
        r[0]
        for r in await conn.execute(
            sa.select(t.posts.c.uri).where(t.posts.c.id.in_(report.post_ids or []))
        )
    ]


async def create_report(ctx: Context, reporter_id: int, req: ReportRequest) -> int:
    """File a report; returns its id. Posts must be the target's and visible to the reporter."""
    if len(req.comment) > MAX_COMMENT:
        raise ValidationError(
            Message("the comment is limited to %(num)s characters", num=MAX_COMMENT),
            field="comment",
        )
    if len(req.post_ids) > MAX_POSTS:
        raise ValidationError(
            Message("at most %(num)s posts per report", num=MAX_POSTS), field="status_ids"
        )
    if req.target_id == reporter_id:
        raise ValidationError("you cannot report yourself", field="account_id")
    async with ctx.db.write() as conn:
        target = (
            await conn.execute(
                sa.select(t.actors.c.id, t.actors.c.domain).where(t.actors.c.id == req.target_id)
            )
        ).first()
        if target is None:
            raise NotFound("Record not found")
        viewer = await viewer_for_actor(conn, reporter_id)
        community_ids: set[int] = set()
        for post_id in dict.fromkeys(req.post_ids):
            post = (
                await conn.execute(
                    sa.select(t.posts.c.author_id, t.posts.c.community_id).where(
                        t.posts.c.id == post_id
                    )
                )
            ).first()
            if (
                post is None
                or post.author_id != req.target_id
                or not await can_see_post(conn, viewer, post_id)
            ):
                raise ValidationError(
                    "a reported post is not the reported account's or not visible",
                    field="status_ids",
                )
            if post.community_id is not None:
                community_ids.add(int(post.community_id))
        res = await conn.execute(
            t.reports.insert().values(
                reporter_id=reporter_id,
                target_id=req.target_id,
                community_id=min(community_ids) if community_ids else None,
                post_ids=list(dict.fromkeys(req.post_ids)),
                comment=req.comment,
                created_at=clock.now(),
            )
        )
        report_id = inserted_id(res)
        await notify_moderators(conn, report_id, reporter_id, community_ids)
        event = await ctx.events.emit(
            conn,
            kinds.REPORT_CREATED,
            report_id=report_id,
            forward=bool(req.forward and target.domain is not None),
        )
    await ctx.events.committed(event)
    return report_id


async def get_report(conn: AsyncConnection, report_id: int) -> sa.Row:
    """One report row."""
    row = (await conn.execute(sa.select(t.reports).where(t.reports.c.id == report_id))).first()
    if row is None:
        raise NotFound("Record not found")
    return row
