"""Catching up with a community hosted on another instance.

Federation brings us what changes after one of our members joined a remote community; what already
existed (the purpose in force, the roadmap, the open proposals, the phase) we fetch once from the
Group's own collections. ``sync_community`` fetches the Group's actor document signed as one of our
members of it (an origin shows members-only collections to members), then hands it to each
registered *syncer*; a syncer fetches the collection it cares about with ``fetch_as`` and stores what
it finds in a write transaction of its own (never network I/O inside one).

It runs after the Accept of a local member's join (``incoming_social.on_accept``) and when a member
asks for it on the remote community page. A syncer that fails is logged and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from federation.actors import fetch_signed
from federation.errors import FederationError
from server.activitypub.core.common import ctx_of, local_members_of_group
from server.services import actors

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """What a syncer needs: our ``communities`` row, the Group's document and who may sign fetches."""

    community_id: int
    group_actor_id: int
    group: dict[str, Any]
    signers: Sequence[int]


# Failures of reaching the origin at all (as opposed to its refusing one signer).
UNREACHABLE = frozenset({"timeout", "network", "dns", "private_address", "bad_url"})

Syncer = Callable[[web.Application, SyncTarget], Awaitable[None]]
SYNCERS: list[Syncer] = []


def register(syncer: Syncer) -> Syncer:
    """Add a syncer (from ``setup``); each runs once per ``sync_community``, in registration order."""
    if syncer not in SYNCERS:
        SYNCERS.append(syncer)
    return syncer


@dataclass(slots=True)
class SyncReport:
    """What a sync did: the syncers that ran and those that failed (with the reason)."""

    ran: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def fetch_as(app: web.Application, url: Any, signers: Sequence[int]) -> dict[str, Any] | None:
    """The document at ``url`` fetched as the first signer the origin answers (then the instance);
    None at once when the origin cannot be reached."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    for signer in [*signers, None]:
        try:
            doc = await fetch_signed(app, url, as_actor=signer, refresh=True)
        except FederationError as exc:
            log.info("fetching %s as %s failed: %s", url, signer or "the instance", exc)
            if (
                exc.reason in UNREACHABLE
            ):  # nobody would get an answer: do not wait it out once per signer
                return None
            continue
        return doc if isinstance(doc, dict) else None
    return None


def collection_items(doc: dict[str, Any] | None) -> list[Any]:
    """The items of an (Ordered)Collection document, or of its first page when embedded."""
    if not isinstance(doc, dict):
        return []
    for key in ("orderedItems", "items"):
        if isinstance(doc.get(key), list):
            return list(doc[key])
    first = doc.get("first")
    if isinstance(first, dict):
        return collection_items(first)
    return []


async def sync_community(app: web.Application, community_id: int) -> SyncReport:
    """Fetch what the remote community's Group publishes and let every syncer store its part."""
    report = SyncReport()
    async with ctx_of(app).db.read() as conn:
        group = await actors.remote_group(conn, community_id)
    if group is None:
        return report
    signers = await local_members_of_group(app, group.uri)
    doc = await fetch_as(app, group.uri, signers)
    if doc is None or doc.get("id") != group.uri:
        report.failed["group"] = "the Group's document could not be fetched"
        return report
    target = SyncTarget(
        community_id=community_id, group_actor_id=int(group.id), group=doc, signers=signers
    )
    for syncer in SYNCERS:
        name = getattr(syncer, "__qualname__", repr(syncer))
        try:
            await syncer(app, target)
            report.ran.append(name)
        except Exception as exc:  # noqa: BLE001 - one syncer's failure must not stop the others
            log.warning(
                "syncing community %s: %s failed: %s", community_id, name, exc, exc_info=True
            )
            report.failed[name] = str(exc) or type(exc).__name__
    return report
