"""Role terms: a role may last a number of days per holding, after which it is reconsidered.

A holding records ``created_at`` (since) and ``ends_at``. Once ``ends_at`` has passed the holding is
"up for reconsideration": ``sweep_role_terms`` tells the holder and the managers once
(``koers.role_term_ended``), and a manager renews it (a new term from now) or ends it
(``roles.unassign_role``). The holder of an open role may renew it themselves.
Events: ``role.term_changed`` (role_id, community_id), ``role.term_renewed`` and ``role.term_ended``
(role_id, actor_id, community_id).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, periodic
from server import event_kinds as kinds
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.events import Event
from server.i18n.messages import Message
from server.services import notifications
from server.storage import schema as t

log = logging.getLogger(__name__)

MAX_TERM_DAYS = 3650
SWEEP_SECONDS = 300.0


def check_term(term_days: Any) -> int | None:
    """``None`` (no term) or a whole number of days between 1 and ``MAX_TERM_DAYS``."""
    if term_days is None or term_days == "":
        return None
    raw = str(term_days).strip()
    days = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else -1
    if isinstance(term_days, bool) or not 1 <= days <= MAX_TERM_DAYS:
        raise ValidationError(
            Message(
                "term: a number of days from 1 to %(num)s, or empty for no term", num=MAX_TERM_DAYS
            ),
            field="term_days",
        )
    return days


def term_end(term_days: int | None, start: datetime) -> datetime | None:
    """When a holding that starts at ``start`` ends (None when the role has no term)."""
    return None if term_days is None else start + timedelta(days=term_days)


def is_up(ends_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a holding's term has passed (it is up for reconsideration)."""
    return ends_at is not None and clock.aware(ends_at) <= (now or clock.now())


async def _managers(conn: AsyncConnection, community_id: int) -> list[int]:
    cm = t.community_managers
    return [
        r[0]
        for r in await conn.execute(
            sa.select(cm.c.actor_id).where(cm.c.community_id == community_id)
        )
    ]


async def _role(conn: AsyncConnection, role_id: int) -> sa.Row:
    row = (await conn.execute(sa.select(t.roles).where(t.roles.c.id == role_id))).first()
    if row is None:
        raise NotFound("no such role")
    return row


async def set_term(ctx: Context, manager_id: int, role_id: int, term_days: Any) -> int | None:
    """A manager sets (or clears) a role's term. Holdings without an end get one from now; clearing ends none."""
    days = check_term(term_days)
    async with ctx.db.write() as conn:
        role = await _role(conn, role_id)
        if manager_id not in await _managers(conn, role.community_id):
            raise Forbidden("only community managers can do this")
        await conn.execute(t.roles.update().where(t.roles.c.id == role_id).values(term_days=days))
        rh = t.role_holders
        if days is None:
            await conn.execute(
                rh.update()
                .where(rh.c.role_id == role_id)
                .values(ends_at=None, term_notified_at=None)
            )
        else:
            await conn.execute(
                rh.update()
                .where(rh.c.role_id == role_id, rh.c.state == "held", rh.c.ends_at.is_(None))
                .values(ends_at=term_end(days, clock.now()))
            )
        event = await ctx.events.emit(
            conn, kinds.ROLE_TERM_CHANGED, role_id=role_id, community_id=role.community_id
        )
    await ctx.events.committed(event)
    return days


async def renew(ctx: Context, actor_id: int, role_id: int, holder_id: int) -> datetime:
    """Start a new term from now: managers for anyone, a holder of an open role for themselves."""
    async with ctx.db.write() as conn:
        role = await _role(conn, role_id)
        if role.term_days is None:
            raise ValidationError("this role has no term to renew", field="term_days")
        is_manager = actor_id in await _managers(conn, role.community_id)
        if not is_manager and not (actor_id == holder_id and role.fill_mode == "open"):
            raise Forbidden("only managers renew this role (holders renew open roles themselves)")
        rh = t.role_holders
        where = (rh.c.role_id == role_id, rh.c.actor_id == holder_id, rh.c.state == "held")
        if (await conn.execute(sa.select(rh.c.id).where(*where))).first() is None:
            raise NotFound("that person does not hold this role")
        ends_at = term_end(role.term_days, clock.now())
        assert ends_at is not None
        await conn.execute(rh.update().where(*where).values(ends_at=ends_at, term_notified_at=None))
        event = await ctx.events.emit(
            conn,
            kinds.ROLE_TERM_RENEWED,
            role_id=role_id,
            actor_id=holder_id,
            community_id=role.community_id,
        )
    await ctx.events.committed(event)
    return ends_at


async def sweep_role_terms(ctx: Context, now: datetime | None = None) -> int:
    """Announce every holding whose term passed (once each): holder and managers are notified."""
    now = now or clock.now()
    rh = t.role_holders
    events: list[Event] = []
    async with ctx.db.write() as conn:
        due = list(
            await conn.execute(
                sa.select(
                    rh.c.id,
                    rh.c.actor_id,
                    t.roles.c.id.label("role_id"),
                    t.roles.c.name,
                    t.roles.c.community_id,
                    t.communities.c.actor_id.label("group_id"),
                )
                .join(t.roles, t.roles.c.id == rh.c.role_id)
                .join(t.communities, t.communities.c.id == t.roles.c.community_id)
                .where(
                    rh.c.state == "held",
                    rh.c.ends_at.is_not(None),
                    rh.c.ends_at <= now,
                    rh.c.term_notified_at.is_(None),
                )
            )
        )
        for d in due:
            extra = {"role_id": d.role_id, "role": d.name, "holder_id": d.actor_id}
            for who in {d.actor_id, *await _managers(conn, d.community_id)}:
                await notifications.notify(
                    conn,
                    who,
                    "koers.role_term_ended",
                    from_actor_id=d.group_id,
                    community_id=d.community_id,
                    extra=extra,
                )
            await conn.execute(rh.update().where(rh.c.id == d.id).values(term_notified_at=now))
            events.append(
                await ctx.events.emit(
                    conn,
                    kinds.ROLE_TERM_ENDED,
                    role_id=d.role_id,
                    actor_id=d.actor_id,
                    community_id=d.community_id,
                )
            )
    for event in events:
        await ctx.events.committed(event)
    if due:
        log.info("role terms: %d holding(s) up for reconsideration", len(due))
    return len(due)


async def up_for_reconsideration(
    conn: AsyncConnection, community_id: int, now: datetime | None = None
) -> list[sa.Row]:
    """Holdings of this community whose term has passed (``role_id``, ``role_name``, ``username``, ``ends_at``)."""
    rh = t.role_holders
    return list(
        await conn.execute(
            sa.select(
                t.roles.c.id.label("role_id"),
                t.roles.c.name.label("role_name"),
                t.actors.c.username,
                t.actors.c.display_name,
                rh.c.ends_at,
            )
            .join(t.roles, t.roles.c.id == rh.c.role_id)
            .join(t.actors, t.actors.c.id == rh.c.actor_id)
            .where(
                t.roles.c.community_id == community_id,
                rh.c.state == "held",
                rh.c.ends_at.is_not(None),
                rh.c.ends_at <= (now or clock.now()),
            )
            .order_by(rh.c.ends_at)
        )
    )


def start_sweeper(ctx: Context, *, every: float = SWEEP_SECONDS) -> asyncio.Task[None]:
    """A background task that sweeps role terms every ``every`` seconds (stop it with ``stop_sweeper``)."""
    return periodic.start("koers-role-terms", lambda: sweep_role_terms(ctx), every)


async def stop_sweeper(task: asyncio.Task[None]) -> None:
    """Cancel the sweeper and wait for it to end."""
    await periodic.stop(task)
