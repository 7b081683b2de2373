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

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.activitypub import remote_sync
from server.activitypub.incoming_common import ctx_of, local_members_of_group
from server.activitypub.lookup import lookup
from server.activitypub.remote_sync import SyncTarget, collection_items, fetch_as
from server.activitypub.vocab import ids, koers, same_origin, type_of
from server.services import purpose, purpose_phases, text
from server.services.purpose_decisions import METHODS
from server.services.purpose_proposals import STATES, insert_index_row
from server.storage import schema as t
from server.storage.rows import inserted_id

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


@remote_sync.register
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
        community = (
            await conn.execute(
                sa.select(t.communities).where(t.communities.c.id == target.community_id)
            )
        ).one()
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
        known = (
            set(
                (
                    await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.uri.in_(uris)))
                ).scalars()
            )
            if uris
            else set()
        )
    for uri in [u for u in uris if u not in known][:MAX_FETCHES]:
        await lookup(app, uri, as_actor=signers[0] if signers else None)


async def _store_versions(conn: AsyncConnection, community: sa.Row, versions: list[tuple]) -> None:
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


async def _post_ids(conn: AsyncConnection, community_id: int, uris: list[str]) -> dict[str, sa.Row]:
    """Our copies of the named posts — only those addressed to this community (a Group cannot claim others)."""
    if not uris:
        return {}
    rows = await conn.execute(
        sa.select(
            t.posts.c.id, t.posts.c.uri, t.posts.c.author_id, t.posts.c.created_at, t.posts.c.extra
        ).where(
            t.posts.c.uri.in_(uris),
            t.posts.c.community_id == community_id,
            t.posts.c.deleted_at.is_(None),
        )
    )
    return {r.uri: r for r in rows}


async def _store_process(
    conn: AsyncConnection,
    community: sa.Row,
    proposals: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
) -> None:
    """Upsert our index of the remote community's decisions and proposals (matched by their posts); a
    decision that opens asks our members to take part (``koers.decision_opened``, as at home)."""
    community_id = community.id
    posts = await _post_ids(
        conn, community_id, [p["id"] for p in proposals] + [d["id"] for d in decisions]
    )
    decision_of: dict[str, int] = {}
    pd = t.purpose_decisions
    for d in decisions:
        post, method = posts.get(d["id"]), koers(d, "method")
        if post is None or method not in METHODS:
            continue
        result = koers(d, "result") if koers(d, "result") in RESULTS else None
        values = {
            "method": method,
            "opened_at": _when(d.get("published")) or clock.now(),
            "closed_at": _when(d.get("endTime")),
            "result": result,
        }
        found = (
            await conn.execute(
                sa.select(pd.c.id).where(pd.c.community_id == community_id, pd.c.post_id == post.id)
            )
        ).scalar()
        if found is None:
            res = await conn.execute(
                pd.insert().values(community_id=community_id, post_id=post.id, counts={}, **values)
            )
            found = inserted_id(res)
            if values["closed_at"] is None:
                await purpose.notify_members(
                    conn,
                    community.actor_id,
                    "koers.decision_opened",
                    from_actor_id=post.author_id,
                    post_id=post.id,
                    community_id=community_id,
                    extra={"decision_id": found},
                )
        else:
            await conn.execute(pd.update().where(pd.c.id == found).values(**values))
        for uri in ids(koers(d, "proposals")):
            decision_of[uri] = int(found)
    pp = t.purpose_proposals
    for p in proposals:
        post, state = posts.get(p["id"]), koers(p, "state")
        if post is None or state not in STATES:
            continue
        decision_id = decision_of.get(p["id"])
        exists = (await conn.execute(sa.select(pp.c.id).where(pp.c.post_id == post.id))).scalar()
        if exists is not None:
            await conn.execute(
                pp.update().where(pp.c.id == exists).values(state=state, decision_id=decision_id)
            )
            continue
        # The text is the author's own (their post's koers:proposal), not what the index document says.
        body = (post.extra or {}).get("proposal")
        if not isinstance(body, dict) or not str(body.get("text", "")).strip():
            continue
        base = koers(p, "version")
        new_id = await insert_index_row(
            conn,
            post,
            community_id,
            str(body["text"]),
            str(body.get("reason", "")),
            base if isinstance(base, int) and 0 <= base < 2**31 else 0,
            state,
        )
        await conn.execute(pp.update().where(pp.c.id == new_id).values(decision_id=decision_id))


async def group_updated(app: web.Application, group_actor_id: int, obj: Any = None) -> None:
    """After an ``Update`` of a remote Group we hold a community of: catch up with its purpose process.

    Only an ``Update`` that says where the process stands (``koers:purposePhase``, sent by a Koers
    home when it moves) is worth the fetches; a profile change or a non-Koers Group's is not.
    """
    if not isinstance(obj, dict) or koers(obj, "purposePhase") is None:
        return
    ctx = ctx_of(app)
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.communities.c.id, t.actors.c.uri)
                .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
                .where(t.communities.c.actor_id == group_actor_id, t.communities.c.local.is_(False))
            )
        ).first()
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
