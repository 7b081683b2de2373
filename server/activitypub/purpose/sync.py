"""Catching up with the purpose process of a community hosted on another instance.

A syncer for ``remote_sync``: from the Group's document it reads ``koers:purposePhase`` (the phase
and its dates), fetches ``koers:purpose`` (every version) and ``koers:purposeProcess`` (the
proposals and decisions our signer may see, with their states), and stores what we do not hold:
phase rows, ``purpose_versions``, ``purpose_proposals`` and ``purpose_decisions`` of our row of the
community. Posts of proposals and decisions we never received are fetched from their origin first.
Only the newest version, when it is newer than what we held, asks our members to endorse it —
catching up on history must not flood them.

It runs after a join is accepted and on "Refresh" (``remote_sync.sync_community``), and after every
``Update`` of the Group (``group_updated``: the Group sends one when its phase changes or a decision
opens or closes, see ``purpose_federation``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.activitypub.core.common import ctx_of, local_members_of_group
from server.activitypub.core.lookup import lookup
from server.activitypub.core.remote_sync import SyncTarget, collection_items, fetch_as
from server.activitypub.core.vocab import ids, koers, same_origin, type_of
from server.services import purpose, purpose_phases, remote_purpose, text
from server.services.purpose_decisions import METHODS
from server.services.purpose_proposals import STATES
from server.services.remote_purpose import RemoteDecision, RemoteProposal

log = logging.getLogger(__name__)
MAX_ITEMS = 200  # proposals / decisions / versions read from one document
MAX_FETCHES = 20  # posts of proposals / decisions fetched in one sync (the rest on the next one)
RESULTS = ("adopted", "kept", "blocked")


@dataclass(frozen=True, slots=True)
class RemotePhase:
    """The phase a remote Group says it is in."""

    phase: str
    started_at: datetime
    planned_end: datetime | None
    note: str


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return clock.aware(found)


def phase_from(doc: Any) -> RemotePhase | None:
    """The ``koers:purposePhase`` of a Group document, or None when absent or not understood."""
    if not isinstance(doc, dict):
        return None
    phase = koers(doc, "phase")
    started = _when(doc.get("startTime"))
    if phase not in purpose_phases.PHASES or started is None:
        return None
    note = doc.get("summary")
    return RemotePhase(
        phase,
        started,
        _when(doc.get("endTime")),
        note[: purpose_phases.MAX_NOTE] if isinstance(note, str) else "",
    )


def _version_of(item: Any, group_uri: str) -> tuple[int, str, str, str, datetime | None] | None:
    """(version, html, reason, uri, published) of a purpose version ``Page`` from the Group's origin."""
    if not isinstance(item, dict) or type_of(item) != "Page" or koers(item, "purpose") is not True:
        return None
    version, uri, content = koers(item, "version"), item.get("id"), item.get("content")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 2**31:
        return None
    if not isinstance(uri, str) or not same_origin(uri, group_uri) or not isinstance(content, str):
        return None
    reason = s if isinstance(s := item.get("summary"), str) else ""
    return version, text.sanitise_html(content), reason, uri, _when(item.get("published"))


async def sync_purpose(app: web.Application, target: SyncTarget) -> None:
    """Store the phase, the versions and the proposals/decisions the remote Group publishes."""
    group, group_uri = target.group, str(target.group.get("id"))
    phase = phase_from(koers(group, "purposePhase"))
    versions: list[tuple[int, str, str, str, datetime | None]] = []
    url = koers(group, "purpose")
    if isinstance(url, str) and same_origin(url, group_uri):
        for item in collection_items(await fetch_as(app, url, target.signers))[:MAX_ITEMS]:
            if (found := _version_of(item, group_uri)) is not None:
                versions.append(found)
    process: dict[str, Any] | None = None
    url = koers(group, "purposeProcess")
    if isinstance(url, str) and same_origin(url, group_uri):
        process = await fetch_as(app, url, target.signers)
    proposals = _items(process, "proposals", group_uri)
    decisions = _items(process, "decisions", group_uri)
    if phase is None and process is not None:
        phase = phase_from(koers(process, "purposePhase"))
    await _fetch_missing(
        app, [p["id"] for p in proposals] + [d["id"] for d in decisions], target.signers
    )
    ctx = ctx_of(app)
    async with ctx.db.write() as conn:
        community = await remote_purpose.community_row(conn, target.community_id)
        if phase is not None:
            await purpose_phases.record_remote_phase(
                conn,
                community.id,
                phase.phase,
                phase.started_at,
                planned_end=phase.planned_end,
                note=phase.note,
            )
        await _store_versions(conn, community, versions)
        await _store_process(conn, community, proposals, decisions)


def _items(process: dict[str, Any] | None, name: str, group_uri: str) -> list[dict[str, Any]]:
    """The proposals or decisions of a process document whose posts come from the community's members
    (any instance: the Group relays them), as dicts with a string ``id``."""
    if not isinstance(process, dict) or not same_origin(process.get("id"), group_uri):
        return []
    found = koers(process, name)
    return (
        [i for i in found[:MAX_ITEMS] if isinstance(i, dict) and isinstance(i.get("id"), str)]
        if isinstance(found, list)
        else []
    )


async def _fetch_missing(app: web.Application, uris: list[str], signers: Any) -> None:
    """Fetch (signed as one of our members) the posts of proposals and decisions we never received."""
    async with ctx_of(app).db.read() as conn:
        known = await remote_purpose.known_post_uris(conn, uris)
    for uri in [u for u in uris if u not in known][:MAX_FETCHES]:
        await lookup(app, uri, as_actor=signers[0] if signers else None)


async def _store_versions(conn: AsyncConnection, community: Row, versions: list[tuple]) -> None:
    before = await purpose.current(conn, community.id)
    newest = 0
    for version, html, reason, uri, published in sorted(versions):
        if await purpose.record_remote_version(
            conn, community.id, version, html, reason=reason, uri=uri, created_at=published
        ):
            newest = max(newest, version)
    if newest and (before is None or newest > before.version):
        # Only the version now in force asks our members to endorse it (history does not).
        await purpose.notify_members(
            conn,
            community.actor_id,
            "koers.endorse_requested",
            from_actor_id=community.actor_id,
            community_id=community.id,
            extra={"version": newest},
        )


def _decisions(decisions: list[dict[str, Any]]) -> list[RemoteDecision]:
    """What the process document says of each decision we understand."""
    found = []
    for d in decisions:
        method = koers(d, "method")
        if method not in METHODS:
            continue
        result = koers(d, "result") if koers(d, "result") in RESULTS else None
        found.append(
            RemoteDecision(
                post_uri=d["id"],
                method=method,
                opened_at=_when(d.get("published")) or clock.now(),
                closed_at=_when(d.get("endTime")),
                result=result,
                proposal_uris=ids(koers(d, "proposals")),
            )
        )
    return found


def _proposals(proposals: list[dict[str, Any]]) -> list[RemoteProposal]:
    """What the process document says of each proposal we understand."""
    found = []
    for p in proposals:
        state = koers(p, "state")
        if state not in STATES:
            continue
        base = koers(p, "version")
        found.append(
            RemoteProposal(
                post_uri=p["id"],
                state=state,
                base_version=base if isinstance(base, int) and 0 <= base < 2**31 else 0,
            )
        )
    return found


async def _store_process(
    conn: AsyncConnection,
    community: Row,
    proposals: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
) -> None:
    """Our index of the remote community's decisions and proposals, from its process document's
    items (``remote_purpose.record_remote_process``)."""
    await remote_purpose.record_remote_process(
        conn, community, _proposals(proposals), _decisions(decisions)
    )


async def group_updated(app: web.Application, group_actor_id: int, obj: Any = None) -> None:
    """After an ``Update`` of a remote Group we hold a community of: catch up with its purpose process.

    Only an ``Update`` that says where the process stands (``koers:purposePhase``) is worth the
    fetches: a Koers home's, which embeds its whole Group (when the process moves and when the
    profile changes); a non-Koers Group's is not.
    """
    if not isinstance(obj, dict) or koers(obj, "purposePhase") is None:
        return
    ctx = ctx_of(app)
    async with ctx.db.read() as conn:
        row = await remote_purpose.community_of_remote_group(conn, group_actor_id)
    if row is None:
        return
    signers = await local_members_of_group(app, row.uri)
    if not signers:
        return  # nobody here takes part: nothing to show
    doc = await fetch_as(app, row.uri, signers)
    if doc is None or doc.get("id") != row.uri:
        log.info("the Group %s could not be refetched after its Update", row.uri)
        return
    await sync_purpose(
        app,
        SyncTarget(
            community_id=int(row.id), group_actor_id=group_actor_id, group=doc, signers=signers
        ),
    )
