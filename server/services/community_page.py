"""What a community's page shows beside its feeds, read once and kept until a write changes it.

The page shows a dozen facts of its community — the purpose's phase, the roles with their
holders, the roadmap and its recent changes, the initiatives, the member count, the managers
and the role terms up for reconsideration — and each is a statement (some several). They change
far less often than the page is read, so ``facts`` keeps them in a ``CachedMap`` on the
database's ``WriteWatch`` (``server/storage/caches.py``), by (community, viewer, base URL,
local domain): a write to any table they are read from (``TABLES``, inserts, updates and
deletes alike) empties it in this process at once and, on PostgreSQL, in the others over the
event bus; what no bus tells is seen within ``hot_rows.TTL``. The roadmap parts go through
``server.visibility`` for the viewer they are cached for, so each viewer sees what they saw.

The terms up for reconsideration are the one fact that changes with time alone (a term passes):
the cache holds every held term with an end, and ``facts`` keeps those ended by now, as the
statement did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.services import (
    communities,
    hot_rows,
    initiatives,
    purpose_phases,
    roadmap,
    role_terms,
    roles,
)
from server.services.initiatives import Initiative
from server.services.purpose_phases import Phase
from server.services.roles import Role
from server.services.views import ActorView
from server.storage.caches import CachedMap, watch_of
from server.visibility import Viewer

# Every table the facts are read from (tests/server/services/test_community_page.py reads the
# statements to check it); any write to one of them forgets every community's facts.
TABLES = (
    "actors",
    "blocks",
    "communities",
    "community_managers",
    "follows",
    "partners",
    "purpose_phases",
    "roadmap_items",
    "roadmap_status_changes",
    "roadmap_supports",
    "role_competencies",
    "role_holders",
    "roles",
)
KINDS = ("insert", "update", "delete")
# every held term with an end; ``facts`` keeps those ended by the time of the request
_ANY_END = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Facts:
    """A community's page beside its feeds, as one viewer sees it (shared: never change it)."""

    phase: Phase
    roles: list[Role]
    items: list[roadmap.Item]
    changes: list[roadmap.StatusChange]
    member_count: int
    managers: list[ActorView]
    initiatives: list[Initiative]
    terms: list[sa.Row]  # held terms with an end, soonest first (``role_terms`` rows)


def cache_of(conn: AsyncConnection) -> CachedMap[Facts]:
    """The facts of every community of ``conn``'s database (made and watched the first time)."""
    return watch_of(hot_rows.engine_of(conn)).cache(
        "community_page", lambda: CachedMap[Facts](hot_rows.TTL, 512), tables=TABLES, kinds=KINDS
    )


async def load(conn: AsyncConnection, ctx: Context, viewer: Viewer, community_id: int) -> Facts:
    """The facts read afresh (what ``facts`` caches)."""
    return Facts(
        phase=await purpose_phases.current(conn, community_id),
        roles=await roles.roles_of(conn, community_id),
        items=await roadmap.items(conn, viewer, community_id),
        changes=await roadmap.recent_changes(conn, viewer, community_id, limit=8),
        member_count=(await communities.member_counts(conn, [community_id])).get(community_id, 0),
        managers=await communities.managers(conn, ctx, community_id),
        initiatives=await initiatives.of_community(conn, viewer, community_id),
        terms=await role_terms.up_for_reconsideration(conn, community_id, _ANY_END),
    )


async def facts(
    conn: AsyncConnection, ctx: Context, viewer: Viewer, community_id: int
) -> tuple[Facts, list[sa.Row]]:
    """The community's facts for ``viewer`` (cached) and the role terms up for reconsideration
    now (``role_terms.up_for_reconsideration``)."""
    cache = cache_of(conn)
    key = (community_id, viewer, ctx.base, ctx.settings.domain)
    found = cache.get(key)
    if found is None:
        generation = cache.generation
        found = await load(conn, ctx, viewer, community_id)
        cache.put(key, found, generation)
    now = clock.now()
    return found, [r for r in found.terms if clock.aware(r.ends_at) <= now]
