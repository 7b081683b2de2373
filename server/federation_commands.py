"""``koers federation …``: queue status, domain blocks, allowlist, partners.

Registered by ``server.cli`` (``EXTRA_COMMAND_MODULES``); the domain tables are written through
``federation.policy``, the status is the administrators' federation page's overview.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from federation.policy import SEVERITIES, delete_domain, normalise_domain, upsert_domain
from server.config import ensure_data_dir
from server.services.federation_admin import list_partners, overview
from server.storage import schema as t
from server.storage.db import Database, migrated


def register(
    subparsers: Any,
    commands: dict[str, Any],
    add_common: Callable[[argparse.ArgumentParser], None],
    settings_fn: Callable[..., Any],
) -> None:
    """Add the ``federation`` command group (with ``federation partner …``) to the ``koers`` parser."""

    @asynccontextmanager
    async def database(args: argparse.Namespace) -> AsyncIterator[Database]:
        async with migrated(ensure_data_dir(settings_fn(args)).database_url) as db:
            yield db

    def command(
        group: Any,
        key: str,
        name: str,
        help_text: str,
        fn: Callable[[Database, argparse.Namespace], Any],
        domain: bool = False,
    ) -> argparse.ArgumentParser:
        p = group.add_parser(name, help=help_text)
        if domain:
            p.add_argument("domain")
        add_common(p)

        async def run(args: argparse.Namespace) -> int:
            async with database(args) as db:
                await fn(db, args)
            return 0

        commands[key] = run
        return p

    fed = subparsers.add_parser("federation", help="federation queue and domain policy")
    fsub = fed.add_subparsers(dest="federation_command", metavar="ACTION")
    command(
        fsub, "federation status", "status", "queue depth, failing hosts, recent errors", status
    )
    pb = command(
        fsub,
        "federation block",
        "block",
        "block (suspend/silence/reject media of) a domain",
        block,
        True,
    )
    pb.add_argument("--severity", choices=SEVERITIES, default="suspend")
    pb.add_argument("--reason", default="")
    command(fsub, "federation unblock", "unblock", "remove a domain block", unblock, True)
    command(fsub, "federation allow", "allow", "allow a domain (allowlist mode)", allow, True)
    command(
        fsub,
        "federation disallow",
        "disallow",
        "remove a domain from the allow list",
        disallow,
        True,
    )

    par = fsub.add_parser("partner", help="partner organisations (hosts that see `partners` posts)")
    psub = par.add_subparsers(dest="partner_command", metavar="ACTION")
    pa = command(
        psub, "federation partner add", "add", "add a partner organisation", partner_add, True
    )
    pa.add_argument("--name", default="")
    command(
        psub,
        "federation partner remove",
        "remove",
        "remove a partner organisation",
        partner_remove,
        True,
    )
    command(psub, "federation partner list", "list", "list partner organisations", partner_list)


async def status(db: Database, args: argparse.Namespace) -> None:
    """Print the delivery queue by state, inbox processing by state, hosts in trouble, recent errors."""
    async with db.read() as conn:
        found = await overview(conn)
    deliveries, inbound, hosts, errors = (
        found.deliveries,
        found.inbox,
        found.failing_hosts,
        found.recent_errors,
    )
    print("deliveries: " + (", ".join(f"{k} {v}" for k, v in sorted(deliveries.items())) or "none"))
    print("inbox:      " + (", ".join(f"{k} {v}" for k, v in sorted(inbound.items())) or "none"))
    print("failing hosts:" if hosts else "failing hosts: none")
    for h in hosts:
        flag = "UNAVAILABLE" if h.unavailable else "failing"
        print(
            f"  {h.domain:30} {flag:11} {h.consecutive_failures} failures on {h.failure_days} days: {h.last_error}"
        )
    if errors:
        print("recent errors:")
        for e in errors:
            print(f"  {e.state:7} {e.inbox}: {e.last_error}")


async def block(db: Database, args: argparse.Namespace) -> None:
    domain = normalise_domain(args.domain)
    await upsert_domain(db, t.domain_blocks, domain, severity=args.severity, reason=args.reason)
    print(f"blocked {domain} ({args.severity})")


async def unblock(db: Database, args: argparse.Namespace) -> None:
    domain = normalise_domain(args.domain)
    await delete_domain(db, t.domain_blocks, domain, "blocked")
    print(f"unblocked {domain}")


async def allow(db: Database, args: argparse.Namespace) -> None:
    domain = normalise_domain(args.domain)
    await upsert_domain(db, t.allowed_domains, domain)
    print(f"allowed {domain}")


async def disallow(db: Database, args: argparse.Namespace) -> None:
    domain = normalise_domain(args.domain)
    await delete_domain(db, t.allowed_domains, domain, "on the allow list")
    print(f"removed {domain} from the allow list")


async def partner_add(db: Database, args: argparse.Namespace) -> None:
    domain = normalise_domain(args.domain)
    await upsert_domain(db, t.partners, domain, name=args.name, state="active")
    print(f"{domain} is a partner")


async def partner_remove(db: Database, args: argparse.Namespace) -> None:
    domain = normalise_domain(args.domain)
    await delete_domain(db, t.partners, domain, "a partner")
    print(f"{domain} is no longer a partner")


async def partner_list(db: Database, args: argparse.Namespace) -> None:
    async with db.read() as conn:
        rows = await list_partners(conn)
    if not rows:
        print("no partners yet; add one with: koers partner add DOMAIN")
    for r in rows:
        print(f"{r.domain:30} {r.state:8} {r.name}")
