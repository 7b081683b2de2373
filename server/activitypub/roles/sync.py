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

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import resolve_actor
from federation.errors import FederationError
from server.activitypub.core import remote_sync
from server.activitypub.core.common import ctx_of
from server.activitypub.core.ingest import parse_time
from server.activitypub.core.vocab import ids, same_origin
from server.services import remote_roles, text
from server.services.remote_roles import RemoteRole
from server.services.role_terms import MAX_TERM_DAYS
from server.services.roles import FILL_MODES, MAX_NAME

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


def remote_role(doc: dict[str, Any], actors: dict[str, int]) -> RemoteRole:
    """What we keep of a role ``Page`` (holders: the resolved ones, with their terms)."""
    terms = _terms(doc)
    holders = {actors[u]: u for u in holder_uris(doc) if u in actors}
    return RemoteRole(
        uri=doc["id"],
        name=(text.html_to_text(str(doc.get("name") or "")) or doc["id"])[:MAX_NAME],
        fill_mode=mode
        if isinstance(mode := doc.get("koers:fillMode"), str) and mode in FILL_MODES
        else "assigned",
        term_days=_term_days(doc.get("koers:termDays")),
        description_html=text.sanitise_html(str(doc.get("content") or "")),
        competencies=_competencies(doc),
        holders=[(actor_id, *terms.get(uri, (None, None))) for actor_id, uri in holders.items()],
    )


async def store_remote_role(
    conn: AsyncConnection, community_id: int, doc: dict[str, Any], actors: dict[str, int]
) -> int | None:
    """Insert or refresh one remote role (its competencies and holders, as the origin says); its id here.

    None when the id is a role of another community (a Group updates only its own roles).
    """
    return await remote_roles.keep_role(conn, community_id, remote_role(doc, actors))


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
