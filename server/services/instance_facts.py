"""What the client API tells about this instance: how many members and posts, the hosts it
knows, who to contact, and a member's posting preferences."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t


@dataclass(frozen=True, slots=True)
class Facts:
    """Counts for the instance document, and the first administrator (the contact)."""

    users: int
    statuses: int
    domains: int
    admin_actor_id: int | None
    admin_email: str


async def count_facts(conn: AsyncConnection) -> Facts:
    """Active members, local posts not deleted (boosts included), other hosts known, the contact."""
    users = (
        await conn.execute(
            sa.select(sa.func.count()).select_from(t.users).where(t.users.c.state == "active")
        )
    ).scalar_one()
    statuses = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(t.posts)
            .where(t.posts.c.local.is_(True), t.posts.c.deleted_at.is_(None))
        )
    ).scalar_one()
    domains = (
        await conn.execute(
            sa.select(sa.func.count(sa.distinct(t.actors.c.domain))).where(
                t.actors.c.domain.is_not(None)
            )
        )
    ).scalar_one()
    admin = (
        await conn.execute(
            sa.select(t.users.c.actor_id, t.users.c.email)
            .where(t.users.c.is_admin.is_(True))
            .order_by(t.users.c.id)
            .limit(1)
        )
    ).first()
    return Facts(
        users=users,
        statuses=statuses,
        domains=domains,
        admin_actor_id=admin.actor_id if admin else None,
        admin_email=admin.email if admin else "",
    )


async def known_domains(conn: AsyncConnection) -> list[str]:
    """Every other host we know an actor of, sorted."""
    rows = await conn.execute(
        sa.select(t.actors.c.domain).distinct().where(t.actors.c.domain.is_not(None))
    )
    return sorted(r[0] for r in rows)


async def posting_preferences(conn: AsyncConnection, user_id: int | None) -> sa.Row | None:
    """A member's default audience and locale (None when there is no such member)."""
    return (
        await conn.execute(
            sa.select(t.users.c.default_audience, t.users.c.locale).where(t.users.c.id == user_id)
        )
    ).first()
