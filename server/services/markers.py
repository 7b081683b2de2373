"""Read positions (Mastodon's markers): where a member stopped reading home and notifications."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import ValidationError
from server.storage import schema as t

TIMELINES = ("home", "notifications")


async def get(conn: AsyncConnection, user_id: int, timelines: list[str]) -> list[sa.Row]:
    return list(
        await conn.execute(
            sa.select(t.markers).where(
                t.markers.c.user_id == user_id, t.markers.c.timeline.in_(timelines)
            )
        )
    )


async def save(ctx: Context, user_id: int, changes: dict[str, str | None]) -> None:
    """Set ``last_read_id`` per timeline; each save bumps the marker's version."""
    for value in changes.values():
        if value is None or not value.isdigit() or len(value) > 18:
            raise ValidationError("last_read_id: a status or notification id", field="last_read_id")
    async with ctx.db.write() as conn:
        for timeline, value in changes.items():
            row = (
                await conn.execute(
                    sa.select(t.markers).where(
                        t.markers.c.user_id == user_id, t.markers.c.timeline == timeline
                    )
                )
            ).first()
            if row is None:
                await conn.execute(
                    t.markers.insert().values(
                        user_id=user_id,
                        timeline=timeline,
                        last_read_id=value,
                        version=1,
                        updated_at=clock.now(),
                    )
                )
            else:
                await conn.execute(
                    t.markers.update()
                    .where(t.markers.c.id == row.id)
                    .values(last_read_id=value, version=row.version + 1, updated_at=clock.now())
                )
