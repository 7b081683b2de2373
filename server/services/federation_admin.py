"""What the administrators' federation page shows and changes: partner organisations, domain
blocks, the allow list, and how the delivery queue and inbox are doing.

The same tables the ``koers federation …`` commands manage (``server.federation_commands``),
written through ``federation.policy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.policy import SEVERITIES, delete_domain, normalise_domain, upsert_domain
from server.errors import FieldErrors
from server.i18n.messages import Message
from server.storage import schema as t
from server.storage.db import Database

RECENT_ERRORS = 10


@dataclass
class Overview:
    """Everything on the page, read in one go."""

    partners: list[Any] = field(default_factory=list)
    blocks: list[Any] = field(default_factory=list)
    allowed: list[Any] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)
    inbox: dict[str, int] = field(default_factory=dict)
    failing_hosts: list[Any] = field(default_factory=list)
    recent_errors: list[Any] = field(default_factory=list)


async def list_partners(conn: AsyncConnection) -> list[Any]:
    """The partner organisations' rows, by domain."""
    return list(await conn.execute(sa.select(t.partners).order_by(t.partners.c.domain)))


async def overview(conn: AsyncConnection) -> Overview:
    """Partners, blocks, allow list, queue depth by state, failing hosts and recent delivery errors."""

    def counts(rows: Any) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in rows}

    return Overview(
        partners=await list_partners(conn),
        blocks=list(
            await conn.execute(sa.select(t.domain_blocks).order_by(t.domain_blocks.c.domain))
        ),
        allowed=list(
            await conn.execute(sa.select(t.allowed_domains).order_by(t.allowed_domains.c.domain))
        ),
        deliveries=counts(
            await conn.execute(
                sa.select(t.deliveries.c.state, sa.func.count()).group_by(t.deliveries.c.state)
            )
        ),
        inbox=counts(
            await conn.execute(
                sa.select(t.activities.c.state, sa.func.count())
                .where(t.activities.c.direction == "in")
                .group_by(t.activities.c.state)
            )
        ),
        failing_hosts=list(
            await conn.execute(
                sa.select(t.hosts)
                .where(t.hosts.c.consecutive_failures > 0)
                .order_by(t.hosts.c.domain)
            )
        ),
        recent_errors=list(
            await conn.execute(
                sa.select(t.deliveries.c.inbox, t.deliveries.c.state, t.deliveries.c.last_error)
                .where(t.deliveries.c.last_error.is_not(None))
                .order_by(t.deliveries.c.id.desc())
                .limit(RECENT_ERRORS)
            )
        ),
    )


async def add_partner(db: Database, domain: str, name: str = "") -> str:
    """Make ``domain`` an active partner organisation; returns the normalised domain."""
    found = FieldErrors()  # both fields are checked before either is told
    value = ""
    with found.check("domain"):
        value = normalise_domain(domain)
    if len(name) > 255:
        found.add("name", "name: at most 255 characters")
    found.raise_any()
    await upsert_domain(db, t.partners, value, name=name.strip(), state="active")
    return value


async def remove_partner(db: Database, domain: str) -> str:
    """End a partnership (NotFound when ``domain`` is no partner)."""
    value = normalise_domain(domain)
    await delete_domain(db, t.partners, value, "a partner")
    return value


async def block(db: Database, domain: str, severity: str, reason: str = "") -> str:
    """Block (suspend, silence or reject media of) ``domain``."""
    found = FieldErrors()
    value = ""
    with found.check("domain"):
        value = normalise_domain(domain)
    if severity not in SEVERITIES:
        found.add(
            "severity", Message("severity: one of %(choices)s", choices=", ".join(SEVERITIES))
        )
    found.raise_any()
    await upsert_domain(db, t.domain_blocks, value, severity=severity, reason=reason.strip()[:2000])
    return value


async def unblock(db: Database, domain: str) -> str:
    """Lift the block of ``domain`` (NotFound when it is not blocked)."""
    value = normalise_domain(domain)
    await delete_domain(db, t.domain_blocks, value, "blocked")
    return value
