"""Federation policy: which hosts we federate with (domain blocks, allowlist mode, partners).

A block of ``example.org`` covers ``example.org`` on any port and its subdomains; a block naming
a port (``example.org:8443``) covers exactly that host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.config import Settings
from server.errors import NotFound, ValidationError
from server.storage import schema as t
from server.storage.caches import CachedValue, watch_of
from server.storage.db import Database

SEVERITIES = ("suspend", "silence", "reject_media")
# The policy tables are read once and kept until this process writes one of them, or for this
# many seconds (a block added by another process: the command line, a second web process).
POLICY_TTL = 10.0
POLICY_TABLES = ("domain_blocks", "allowed_domains", "partners")


def domain_matches(host: str, entries: Iterable[str]) -> bool:
    """Whether ``host`` (``name[:port]``) is covered by any of the domain ``entries``."""
    host = host.lower()
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for entry in entries:
        entry = entry.lower()
        if ":" in entry and entry.count(":") == 1:
            if host == entry:
                return True
        elif name == entry or name.endswith("." + entry):
            return True
    return False


async def _blocks(conn: AsyncConnection, severity: str | None = None) -> dict[str, str]:
    q = sa.select(t.domain_blocks.c.domain, t.domain_blocks.c.severity)
    if severity:
        q = q.where(t.domain_blocks.c.severity == severity)
    return {r.domain: r.severity for r in await conn.execute(q)}


async def allowed_entries(conn: AsyncConnection) -> set[str]:
    """Domains allowed in allowlist mode: the allow list plus active partners."""
    allowed = {r.domain for r in await conn.execute(sa.select(t.allowed_domains.c.domain))}
    allowed |= {
        r.domain
        for r in await conn.execute(
            sa.select(t.partners.c.domain).where(t.partners.c.state == "active")
        )
    }
    return allowed


@dataclass(frozen=True, slots=True)
class _Policy:
    blocks: dict[str, str]  # domain -> severity
    allowed: frozenset[str]


def policy_cache(engine: Engine) -> CachedValue[_Policy]:
    """The domain policy cache of ``engine`` (made at app set-up, before any write it must see)."""
    return watch_of(engine).cache(
        "domain_policy",
        lambda: CachedValue[_Policy](POLICY_TTL),
        POLICY_TABLES,
        ("insert", "update", "delete"),
    )


async def _policy(conn: AsyncConnection) -> _Policy:
    """The domain policy, from the cache (see ``server.storage.caches``) or read on ``conn``."""
    cache = policy_cache(conn.sync_engine)

    async def load() -> _Policy:
        return _Policy(await _blocks(conn), frozenset(await allowed_entries(conn)))

    return await cache.get(load)


async def refused_hosts(
    conn: AsyncConnection, settings: Settings | None, hosts: Iterable[str]
) -> set[str]:
    """The ``hosts`` we must not federate with: suspended, or not allowed in allowlist mode."""
    hosts = {h.lower() for h in hosts}
    if not hosts:
        return set()
    return _refused(await _policy(conn), settings, hosts)


def refused_if_known(engine: Engine, settings: Settings | None, host: str) -> bool | None:
    """Whether ``host`` is refused, from the cached policy alone (no connection, no statement);
    None when the cache holds no fresh policy (ask ``is_refused``)."""
    policy = policy_cache(engine).peek()
    return None if policy is None else bool(_refused(policy, settings, {host.lower()}))


def _refused(policy: _Policy, settings: Settings | None, hosts: set[str]) -> set[str]:
    suspended = [domain for domain, severity in policy.blocks.items() if severity == "suspend"]
    refused = {h for h in hosts if domain_matches(h, suspended)}
    if settings is not None and settings.federation_mode == "allowlist":
        refused |= {h for h in hosts if not domain_matches(h, policy.allowed)}
    return refused


async def is_refused(conn: AsyncConnection, settings: Settings | None, host: str) -> bool:
    """Whether one host is refused (see ``refused_hosts``)."""
    return bool(await refused_hosts(conn, settings, [host]))


async def block_severity(conn: AsyncConnection, host: str) -> str | None:
    """The severity of the domain block covering ``host`` (the strongest), or ``None``."""
    blocks = (await _policy(conn)).blocks
    found = {sev for dom, sev in blocks.items() if domain_matches(host, [dom])}
    for severity in SEVERITIES:
        if severity in found:
            return severity
    return None


def normalise_domain(value: str) -> str:
    """``Example.ORG`` / ``https://example.org/`` → ``example.org`` (port kept)."""
    domain = value.strip().lower()
    if "://" in domain:
        domain = domain.split("://", 1)[1]
    domain = domain.split("/", 1)[0]
    if not domain or " " in domain or "@" in domain:
        raise ValidationError(f"not a domain: {value!r}", field="domain")
    return domain


async def upsert_domain(db: Database, table: sa.Table, domain: str, **values: Any) -> None:
    """Insert or update the row of ``domain`` in a per-domain policy table (blocks, allow list, partners)."""
    async with db.write() as conn:
        found = (await conn.execute(sa.select(table.c.id).where(table.c.domain == domain))).first()
        if found:
            await conn.execute(sa.update(table).where(table.c.id == found.id).values(**values))
        else:
            await conn.execute(
                sa.insert(table).values(domain=domain, created_at=clock.now(), **values)
            )


async def delete_domain(db: Database, table: sa.Table, domain: str, what: str) -> None:
    """Delete the row of ``domain``; NotFound ("``domain`` is not ``what``") when there is none."""
    async with db.write() as conn:
        result = await conn.execute(sa.delete(table).where(table.c.domain == domain))
    if result.rowcount == 0:
        raise NotFound(f"{domain} is not {what}")
