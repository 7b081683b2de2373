"""Posts scheduled for later (Mastodon's scheduled statuses).

A scheduled post keeps the draft as parameters; what can be checked without the database is checked
when it is scheduled (``posts.check_draft``), the rest when it is published. The publisher runs with
the workers: every due post becomes a real post through ``posts.create_post``, and its scheduled row
is deleted by an in-transaction listener of ``post.created`` — in the same transaction as the post,
so a crash can neither lose a scheduled post nor publish it twice. Several worker processes may find
the same due post: the one whose delete finds the row gone (another publication, or the member's
cancel, committed first; on PostgreSQL that delete waits for the other transaction) rolls its post back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, periodic
from server import event_kinds as kinds
from server.context import Context
from server.errors import KoersError, NotFound, ValidationError
from server.events import Event
from server.i18n.messages import Message
from server.services import posts
from server.services.idempotency import MAX_KEY
from server.services.posts import Draft, PollSpec
from server.services.timelines import Page, page_ids
from server.services.written_post import written
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Audience

log = logging.getLogger(__name__)

MIN_AHEAD = timedelta(minutes=5)
MAX_SCHEDULED = 300
PUBLISH_EVERY = 30.0  # seconds between looks for due posts


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A scheduled post: when, and the draft's parameters."""

    id: int
    actor_id: int
    scheduled_at: datetime
    params: dict[str, Any]


def draft_from(params: dict[str, Any]) -> Draft:
    """The draft a scheduled post's parameters describe."""
    poll = params.get("poll")
    return Draft(
        source=params.get("text") or "",
        audience=Audience(params["visibility"]) if params.get("visibility") else None,
        spoiler_text=params.get("spoiler_text") or "",
        sensitive=bool(params.get("sensitive")),
        language=params.get("language"),
        in_reply_to_id=params.get("in_reply_to_id"),
        community_id=params.get("community_id"),
        media_ids=tuple(params.get("media_ids") or ()),
        fmt="plain",
        poll=PollSpec(
            tuple(poll["options"]),
            int(poll["expires_in"]),
            bool(poll.get("multiple")),
            bool(poll.get("hide_totals")),
        )
        if poll
        else None,
        application_id=params.get("application_id"),
    )


def params_of(draft: Draft) -> dict[str, Any]:
    """The parameters to keep for a draft (what Mastodon shows as ``params``)."""
    return {
        "text": draft.source,
        "visibility": draft.audience.value if draft.audience else None,
        "spoiler_text": draft.spoiler_text,
        "sensitive": draft.sensitive,
        "language": draft.language,
        "in_reply_to_id": draft.in_reply_to_id,
        "community_id": draft.community_id,
        "media_ids": list(draft.media_ids),
        "poll": {
            "options": list(draft.poll.options),
            "expires_in": draft.poll.expires_in,
            "multiple": draft.poll.multiple,
            "hide_totals": draft.poll.hide_totals,
        }
        if draft.poll
        else None,
        "application_id": draft.application_id,
    }


def _check_time(when: datetime) -> datetime:
    when = clock.aware(when)
    if when < clock.now() + MIN_AHEAD:
        raise ValidationError(
            "scheduled_at: at least 5 minutes in the future", field="scheduled_at"
        )
    if when > clock.now() + timedelta(days=2 * 365):
        raise ValidationError("scheduled_at: at most two years ahead", field="scheduled_at")
    return when


def _scheduled(row: sa.Row) -> Scheduled:
    return Scheduled(
        id=row.id,
        actor_id=row.actor_id,
        scheduled_at=clock.aware(row.scheduled_at),
        params=dict(row.params),
    )


async def schedule(
    ctx: Context, actor_id: int, draft: Draft, when: datetime, *, idempotency: str | None = None
) -> int:
    """Keep ``draft`` to publish at ``when``; returns the scheduled post's id.

    ``idempotency``: the request's ``Idempotency-Key``; the member's scheduled post made with the same
    key is returned instead of keeping a second one (a retried request).
    """
    when = _check_time(when)
    posts.check_draft(draft)
    async with ctx.db.write() as conn:
        if idempotency:
            earlier = await conn.execute(
                sa.select(t.scheduled_posts.c.id, t.scheduled_posts.c.params).where(
                    t.scheduled_posts.c.actor_id == actor_id
                )
            )
            for row in earlier:
                if row.params.get("idempotency") == idempotency[:MAX_KEY]:
                    return int(row.id)
        count = (
            await conn.execute(
                sa.select(sa.func.count()).where(t.scheduled_posts.c.actor_id == actor_id)
            )
        ).scalar_one()
        if count >= MAX_SCHEDULED:
            raise ValidationError(
                Message("at most %(num)s scheduled posts", num=MAX_SCHEDULED), field="scheduled_at"
            )
        if draft.media_ids:  # the member's own uploads, not yet used (as publishing will require)
            usable = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        t.media.c.id.in_(draft.media_ids),
                        t.media.c.owner_id == actor_id,
                        t.media.c.post_id.is_(None),
                    )
                )
            ).scalar_one()
            if usable != len(set(draft.media_ids)):
                raise ValidationError("unknown or already used media", field="media_ids")
        params = {**params_of(draft), "idempotency": idempotency[:MAX_KEY] if idempotency else None}
        res = await conn.execute(
            t.scheduled_posts.insert().values(
                actor_id=actor_id, scheduled_at=when, params=params, created_at=clock.now()
            )
        )
        return inserted_id(res)


async def get(conn: AsyncConnection, actor_id: int, scheduled_id: int) -> Scheduled:
    """One of the member's scheduled posts, or NotFound."""
    row = (
        await conn.execute(
            sa.select(t.scheduled_posts).where(
                t.scheduled_posts.c.id == scheduled_id, t.scheduled_posts.c.actor_id == actor_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("Record not found")
    return _scheduled(row)


def query(actor_id: int) -> sa.Select:
    """The member's scheduled posts (for paging by id)."""
    return sa.select(t.scheduled_posts.c.id).where(t.scheduled_posts.c.actor_id == actor_id)


async def load(conn: AsyncConnection, ids: list[int]) -> list[Scheduled]:
    """Scheduled posts by id, in the order given."""
    rows = {
        r.id: r
        for r in await conn.execute(
            sa.select(t.scheduled_posts).where(t.scheduled_posts.c.id.in_(ids))
        )
    }
    return [_scheduled(rows[i]) for i in ids if i in rows]


async def reschedule(ctx: Context, actor_id: int, scheduled_id: int, when: datetime) -> None:
    """Move a scheduled post to another time."""
    when = _check_time(when)
    async with ctx.db.write() as conn:
        await get(conn, actor_id, scheduled_id)
        await conn.execute(
            t.scheduled_posts.update()
            .where(t.scheduled_posts.c.id == scheduled_id)
            .values(scheduled_at=when)
        )


async def cancel(ctx: Context, actor_id: int, scheduled_id: int) -> None:
    """Drop a scheduled post."""
    async with ctx.db.write() as conn:
        await get(conn, actor_id, scheduled_id)
        await conn.execute(t.scheduled_posts.delete().where(t.scheduled_posts.c.id == scheduled_id))


class AlreadyRetired(Exception):
    """The scheduled post was published or cancelled meanwhile: this publication must not commit."""


async def _published(conn: AsyncConnection, event: Event) -> None:
    """In the new post's transaction: the scheduled post it came from is done (and was not already)."""
    known = written(conn, event.data["post_id"])
    if known is not None:
        extra = known.post.extra
    else:
        extra = (
            await conn.execute(
                sa.select(t.posts.c.extra).where(t.posts.c.id == event.data["post_id"])
            )
        ).scalar()
    if isinstance(extra, dict) and isinstance(extra.get("scheduled_id"), int):
        gone = await conn.execute(
            t.scheduled_posts.delete().where(t.scheduled_posts.c.id == extra["scheduled_id"])
        )
        if gone.rowcount != 1:
            raise AlreadyRetired(extra["scheduled_id"])


def register(ctx: Context) -> None:
    """Hook the listener that retires a scheduled post with its publication."""
    if not ctx.events.listens(kinds.POST_CREATED, _published):
        ctx.events.on(kinds.POST_CREATED, _published)


async def publish_due(ctx: Context, *, now: datetime | None = None) -> int:
    """Publish every scheduled post that is due; returns how many were published.

    A post that can no longer be published (its reply target is gone, its media were used) is dropped
    with a warning in the log, as it would have been refused had it been sent then.
    """
    async with ctx.db.read() as conn:
        due = [
            _scheduled(r)
            for r in await conn.execute(
                sa.select(t.scheduled_posts)
                .where(t.scheduled_posts.c.scheduled_at <= (now or clock.now()))
                .order_by(t.scheduled_posts.c.scheduled_at, t.scheduled_posts.c.id)
            )
        ]
    published = 0
    for item in due:
        try:
            draft = dataclasses.replace(draft_from(item.params), extra={"scheduled_id": item.id})
        except (
            KeyError,
            TypeError,
            ValueError,
        ):  # kept by another version: left for an operator, not in the way
            log.exception(
                "scheduled post %s of actor %s is not a draft this server can read",
                item.id,
                item.actor_id,
            )
            continue
        try:
            await posts.create_post(ctx, item.actor_id, draft)
            published += 1
        except AlreadyRetired:
            log.info("scheduled post %s was published or cancelled meanwhile", item.id)
        except KoersError as exc:
            log.warning(
                "scheduled post %s of actor %s could not be published: %s",
                item.id,
                item.actor_id,
                exc.message,
            )
            async with ctx.db.write() as conn:
                await conn.execute(
                    t.scheduled_posts.delete().where(t.scheduled_posts.c.id == item.id)
                )
    return published


def start_publisher(ctx: Context, *, every: float = PUBLISH_EVERY) -> asyncio.Task[None]:
    """A background task that publishes due posts every ``every`` seconds."""
    return periodic.start("koers-scheduled-posts", lambda: publish_due(ctx), every)


async def stop_publisher(task: asyncio.Task[None]) -> None:
    """Cancel the publisher and wait for it to end."""
    await periodic.stop(task)


async def page_of(conn: AsyncConnection, actor_id: int, page: Page) -> list[int]:
    """A page of the ids of a member's scheduled posts."""
    return await page_ids(conn, query(actor_id), t.scheduled_posts.c.id, page)
