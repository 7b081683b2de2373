"""The phases of co-creating a community's purpose, moved along by its managers.

inventory → discussion → drafting → decision → in force → review → drafting again. Every change of
phase is a row (``purpose_phases``), so the history of the process and its dates stay visible; a
community that never started the process is simply *in force* with its first version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import ValidationError
from server.i18n import N_
from server.i18n.current import Labels
from server.i18n.messages import Message
from server.services.communities import get, require_manager
from server.storage import schema as t

PHASES = ("inventory", "discussion", "drafting", "decision", "in_force", "review")
LABELS = Labels(
    {
        "inventory": N_("Inventory"),
        "discussion": N_("Discussion"),
        "drafting": N_("Drafting"),
        "decision": N_("Decision"),
        "in_force": N_("In force"),
        "review": N_("Review"),
    }
)
HELP = Labels(
    {
        "inventory": N_(
            "collecting existing ideas, examples and the people who already lead informally"
        ),
        "discussion": N_("discussing themes in threads"),
        "drafting": N_("anyone may propose changes to the text"),
        "decision": N_("a vote or consent round decides"),
        "in_force": N_("the purpose is in force; members endorse it"),
        "review": N_("looking back at the purpose in force"),
    }
)
# Where a manager may take the process from each phase (forward, or back to drafting).
NEXT = {
    "inventory": ("discussion", "drafting"),
    "discussion": ("drafting", "inventory"),
    "drafting": ("decision", "discussion"),
    "decision": ("in_force", "drafting"),
    "in_force": ("review", "inventory"),
    "review": ("drafting", "in_force"),
}
MAX_NOTE = 1000


def label_message(phase: str) -> Message:
    """A phase's name as a value of a message, shown in the reader's language."""
    return Message(dict.__getitem__(LABELS, phase))


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of the process, as started by a manager."""

    phase: str
    started_at: datetime | None
    planned_end: datetime | None
    note: str
    set_by_username: str | None

    @property
    def label(self) -> str:
        return LABELS[self.phase]

    @property
    def help(self) -> str:
        return HELP[self.phase]


def _phase(row: sa.Row) -> Phase:
    return Phase(
        phase=row.phase,
        started_at=clock.aware(row.started_at),
        note=row.note or "",
        planned_end=clock.aware(row.planned_end) if row.planned_end else None,
        set_by_username=row.username,
    )


def _select() -> sa.Select:
    pp = t.purpose_phases
    return sa.select(pp, t.actors.c.username).select_from(
        pp.outerjoin(t.actors, t.actors.c.id == pp.c.set_by)
    )


async def current(conn: AsyncConnection, community_id: int) -> Phase:
    """The phase the process is in (``in_force`` when it never started)."""
    row = (
        await conn.execute(
            _select()
            .where(t.purpose_phases.c.community_id == community_id)
            .order_by(t.purpose_phases.c.started_at.desc(), t.purpose_phases.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return Phase("in_force", None, None, "", None)
    return _phase(row)


async def history(conn: AsyncConnection, community_id: int) -> list[Phase]:
    """Every phase started, newest first."""
    rows = await conn.execute(
        _select()
        .where(t.purpose_phases.c.community_id == community_id)
        .order_by(t.purpose_phases.c.started_at.desc(), t.purpose_phases.c.id.desc())
    )
    return [_phase(r) for r in rows]


async def is_local(conn: AsyncConnection, community_id: int) -> bool:
    """Is the community ours (NotFound when unknown)?"""
    await get(conn, community_id)
    return bool(
        (
            await conn.execute(
                sa.select(t.communities.c.local).where(t.communities.c.id == community_id)
            )
        ).scalar()
    )


async def require_local(conn: AsyncConnection, community_id: int) -> None:
    """The purpose process of a community runs on its own instance; elsewhere members take part by federation."""
    if not await is_local(conn, community_id):
        raise ValidationError(
            "the purpose process of this community runs on its own instance", field="community_id"
        )


async def insert_phase(
    conn: AsyncConnection,
    community_id: int,
    phase: str,
    actor_id: int | None,
    *,
    planned_end: datetime | None = None,
    note: str = "",
) -> None:
    """Record the start of a phase inside the caller's transaction (no checks)."""
    await conn.execute(
        t.purpose_phases.insert().values(
            community_id=community_id,
            phase=phase,
            started_at=clock.now(),
            planned_end=planned_end,
            note=note.strip(),
            set_by=actor_id,
        )
    )


async def record_remote_phase(
    conn: AsyncConnection,
    community_id: int,
    phase: str,
    started_at: datetime,
    *,
    planned_end: datetime | None = None,
    note: str = "",
) -> bool:
    """The phase a community on another instance says it is in (from its Group document): a row when it is
    new to us (another phase, or the same one started again). Returns True when one was written."""
    if phase not in PHASES:
        return False
    now = await current(conn, community_id)
    known = now.started_at is not None and (now.phase, now.planned_end, now.note) == (
        phase,
        planned_end,
        note.strip(),
    )
    if (
        known
        and now.started_at is not None
        and abs((now.started_at - started_at).total_seconds()) < 1
    ):
        return False
    await conn.execute(
        t.purpose_phases.insert().values(
            community_id=community_id,
            phase=phase,
            started_at=started_at,
            planned_end=planned_end,
            note=note.strip()[:MAX_NOTE],
            set_by=None,
        )
    )
    return True


async def set_phase(
    ctx: Context,
    actor_id: int,
    community_id: int,
    phase: str,
    *,
    planned_end: datetime | None = None,
    note: str = "",
) -> Phase:
    """A manager moves the process to ``phase`` (one of the allowed next phases)."""
    if phase not in PHASES:
        raise ValidationError(
            Message("phase: one of %(choices)s", choices=", ".join(PHASES)), field="phase"
        )
    if len(note) > MAX_NOTE:
        raise ValidationError(
            Message("note: at most %(num)s characters", num=MAX_NOTE), field="note"
        )
    if planned_end is not None and planned_end <= clock.now():
        raise ValidationError("planned end: a date in the future", field="planned_end")
    async with ctx.db.write() as conn:
        await require_local(conn, community_id)
        await require_manager(conn, community_id, actor_id)
        now = await current(conn, community_id)
        if phase not in NEXT[now.phase]:
            first, second = NEXT[now.phase]
            raise ValidationError(
                Message(
                    "phase: from %(phase)s the process moves to %(first)s or %(second)s",
                    phase=label_message(now.phase),
                    first=label_message(first),
                    second=label_message(second),
                ),
                field="phase",
            )
        await insert_phase(conn, community_id, phase, actor_id, planned_end=planned_end, note=note)
        event = await ctx.events.emit(
            conn,
            kinds.PURPOSE_PHASE_CHANGED,
            community_id=community_id,
            phase=phase,
            actor_id=actor_id,
        )
        found = await current(conn, community_id)
    await ctx.events.committed(event)
    return found
