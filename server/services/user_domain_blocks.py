"""A member's own domain blocks (Mastodon's ``/api/v1/domain_blocks``): hide a whole remote server."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import ValidationError
from server.storage import schema as t


def _check(domain: str) -> str:
    value = domain.strip().lower()
    if not value or len(value) > 255 or "/" in value or " " in value or "." not in value.strip("."):
        raise ValidationError("domain: a host name like example.org", field="domain")
    return value


async def block_domain(ctx: Context, actor_id: int, domain: str) -> None:
    value = _check(domain)
    async with ctx.db.write() as conn:
        cond = sa.and_(
            t.user_domain_blocks.c.actor_id == actor_id, t.user_domain_blocks.c.domain == value
        )
        if not (await conn.execute(sa.select(t.user_domain_blocks.c.id).where(cond))).first():
            await conn.execute(
                t.user_domain_blocks.insert().values(actor_id=actor_id, domain=value)
            )


async def unblock_domain(ctx: Context, actor_id: int, domain: str) -> None:
    value = _check(domain)
    async with ctx.db.write() as conn:
        await conn.execute(
            t.user_domain_blocks.delete().where(
                t.user_domain_blocks.c.actor_id == actor_id, t.user_domain_blocks.c.domain == value
            )
        )


async def blocked_domains(conn: AsyncConnection, actor_id: int) -> list[str]:
    rows = await conn.execute(
        sa.select(t.user_domain_blocks.c.domain)
        .where(t.user_domain_blocks.c.actor_id == actor_id)
        .order_by(t.user_domain_blocks.c.id)
    )
    return [r[0] for r in rows]
