"""Roles of a community hosted on another instance, as this instance keeps them.

The origin publishes each role as a ``Page`` with ``koers:role`` (``community_objects.role_object``):
name, description, ``koers:fillMode``, ``koers:competencies``, ``koers:termDays``, the holders
collection (``koers:holders``, embedded) and each holding's term (``koers:terms``). We keep them as
``roles`` rows of the remote community (with the origin's ``uri``), their competencies, and
``role_holders`` rows whose actors are resolved before the write. Two ways in: the syncer registered
with ``remote_sync`` fetches the Group's ``koers:roles`` collection once a member joined, and the
origin's ``Update`` of a role (``role_federation``) refreshes one role whenever its holders or terms
change. Our own members' pending claims (``requested``) survive a refresh, and a member whose term
of such a role has passed is notified here (``koers.role_term_ended``) as a local holder would be.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import resolve_actor
from federation.errors import FederationError
from server import clock
from server.activitypub import remote_sync
from server.activitypub.incoming_common import ctx_of
from server.activitypub.ingest import parse_time
from server.activitypub.vocab import ids, same_origin
from server.services import notifications, role_terms, text
from server.services.role_terms import MAX_TERM_DAYS
from server.services.roles import FILL_MODES, MAX_NAME
from server.storage import schema as t
from server.storage.rows import inserted_id

log = logging.getLogger(__name__)

MAX_ROLES = 200
MAX_HOLDERS = 100
MAX_COMPETENCIES = 30


def is_role_document(doc: Any) -> bool:
    """A Koers role ``Page`` (a plain Page of another server is not one)."""
    return isinstance(doc, dict) and bool(doc.get("koers:role")) and isinstance(doc.get("id"), str)


def holder_uris(doc: dict[str, Any]) -> list[str]:
    """The actor ids in the role's embedded holders collection."""
    holders = doc.get("koers:holders")
    items = holders.get("items") if isinstance(holders, dict) else holders
    return [u for u in ids(items) if u.startswith(("https://", "http://"))][:MAX_HOLDERS]


async def resolve_holders(app: web.Application, docs: list[dict[str, Any]]) -> dict[str, int]:
    """Actor ids of every holder named in ``docs`` (fetched when unknown; unreachable ones are left out)."""
    found: dict[str, int] = {}
    for uri in {u for doc in docs for u in holder_uris(doc)}:
        try:
            found[uri] = await resolve_actor(app, uri)
        except FederationError as exc:
            log.info("role holder %s could not be resolved: %s", uri, exc)
    return found


def _term_days(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TERM_DAYS
    return value if ok else None


def _terms(doc: dict[str, Any]) -> dict[str, tuple[datetime | None, datetime | None]]:
    """holder uri -> (since, ends at) from ``koers:terms``."""
    out: dict[str, tuple[datetime | None, datetime | None]] = {}
    raw = doc.get("koers:terms")
    for term in raw if isinstance(raw, list) else []:
        if isinstance(term, dict) and isinstance(term.get("koers:holder"), str):
            out[term["koers:holder"]] = (
                parse_time(term.get("startTime")),
                parse_time(term.get("koers:endsAt")),
            )
    return out


def _competencies(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    out: dict[str, str | None] = {}
    raw = doc.get("koers:competencies")
    for c in raw if isinstance(raw, list) else []:
        name = c.get("name") if isinstance(c, dict) else c
        if isinstance(name, str) and name.strip():
            level = c.get("koers:level") if isinstance(c, dict) else None
            out[name.strip()[:100]] = level[:20] if isinstance(level, str) else None
    return list(out.items())[:MAX_COMPETENCIES]


async def _upsert_role(conn: AsyncConnection, community_id: int, doc: dict[str, Any]) -> int | None:
    name = (text.html_to_text(str(doc.get("name") or "")) or doc["id"])[:MAX_NAME]
    fill_mode = doc.get("koers:fillMode") if doc.get("koers:fillMode") in FILL_MODES else "assigned"
    values = {
        "name": name,
        "fill_mode": fill_mode,
        "term_days": _term_days(doc.get("koers:termDays")),
        "description_html": text.sanitise_html(str(doc.get("content") or "")),
    }
    r = t.roles
    row = (
        await conn.execute(sa.select(r.c.id, r.c.community_id).where(r.c.uri == doc["id"]))
    ).first()
    if row is not None and row.community_id != community_id:
        log.info("role %s belongs to another community; not changed", doc["id"])
        return None
    found = row.id if row is not None else None
    clash = (
        await conn.execute(
            sa.select(r.c.id).where(
                r.c.community_id == community_id, r.c.name == name, r.c.uri != doc["id"]
            )
        )
    ).scalar()
    if clash is not None:  # another role of it had this name before a rename: keep both apart
        await conn.execute(
            r.update().where(r.c.id == clash).values(name=f"{name[: MAX_NAME - 12]} ({clash})")
        )
    if found is None:
        res = await conn.execute(
            r.insert().values(
                community_id=community_id, uri=doc["id"], created_at=clock.now(), **values
            )
        )
        return inserted_id(res)
    await conn.execute(r.update().where(r.c.id == found).values(**values))
    return int(found)


async def store_remote_role(
    conn: AsyncConnection, community_id: int, doc: dict[str, Any], actors: dict[str, int]
) -> int | None:
    """Insert or refresh one remote role (its competencies and holders, as the origin says); its id here.

    None when the id is a role of another community (a Group updates only its own roles).
    """
    role_id = await _upsert_role(conn, community_id, doc)
    if role_id is None:
        return None
    rc, rh = t.role_competencies, t.role_holders
    await conn.execute(rc.delete().where(rc.c.role_id == role_id))
    comps = _competencies(doc)
    if comps:
        await conn.execute(
            rc.insert(), [{"role_id": role_id, "name": n, "level": lv} for n, lv in comps]
        )
    terms = _terms(doc)
    holders = {actors[u]: u for u in holder_uris(doc) if u in actors}
    # Holders the origin no longer lists go; our members' pending claims stay until answered.
    await conn.execute(
        rh.delete().where(
            rh.c.role_id == role_id,
            rh.c.state == "held",
            rh.c.actor_id.not_in(list(holders) or [0]),
        )
    )
    now = clock.now()
    for actor_id, uri in holders.items():
        since, ends_at = terms.get(uri, (None, None))
        values = {"state": "held", "created_at": since or now, "ends_at": ends_at}
        where = (rh.c.role_id == role_id, rh.c.actor_id == actor_id)
        before = (await conn.execute(sa.select(rh.c.ends_at).where(*where))).first()
        if before is None:
            await conn.execute(rh.insert().values(role_id=role_id, actor_id=actor_id, **values))
        else:
            await conn.execute(rh.update().where(*where).values(**values))
        if role_terms.is_up(ends_at, now) and not (
            before is not None and role_terms.is_up(before.ends_at, now)
        ):
            await _tell_term_ended(conn, community_id, role_id, actor_id, doc)
    return role_id


async def _tell_term_ended(
    conn: AsyncConnection, community_id: int, role_id: int, actor_id: int, doc: dict[str, Any]
) -> None:
    """One of our members' term of a remote role has passed: they hear it here, as a local holder would."""
    local = (
        await conn.execute(sa.select(t.actors.c.domain).where(t.actors.c.id == actor_id))
    ).first()
    if local is None or local.domain is not None:
        return
    group = (
        await conn.execute(
            sa.select(t.communities.c.actor_id).where(t.communities.c.id == community_id)
        )
    ).scalar()
    name = (await conn.execute(sa.select(t.roles.c.name).where(t.roles.c.id == role_id))).scalar()
    await notifications.notify(
        conn,
        actor_id,
        "koers.role_term_ended",
        from_actor_id=group,
        community_id=community_id,
        extra={"role_id": role_id, "role": name, "holder_id": actor_id},
    )


def usable_roles(docs: list[Any], group_uri: str) -> list[dict[str, Any]]:
    """The role documents of this Group (same origin), at most ``MAX_ROLES``."""
    return [d for d in docs if is_role_document(d) and same_origin(d["id"], group_uri)][:MAX_ROLES]


async def sync_roles(app: web.Application, target: remote_sync.SyncTarget) -> None:
    """Syncer: fetch the Group's ``koers:roles`` collection and keep every role with its holders."""
    group_uri = str(target.group.get("id"))
    url = target.group.get("koers:roles")
    if not same_origin(url if isinstance(url, str) else None, group_uri):
        return
    collection = await remote_sync.fetch_as(app, url, target.signers)
    docs = usable_roles(remote_sync.collection_items(collection), group_uri)
    actors = await resolve_holders(app, docs)
    async with ctx_of(app).db.write() as conn:
        for doc in docs:
            await store_remote_role(conn, target.community_id, doc, actors)
    log.info("synced %d role(s) of %s", len(docs), group_uri)


def install() -> None:
    """Register the roles syncer with ``remote_sync``."""
    remote_sync.register(sync_roles)
