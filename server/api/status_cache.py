"""Statuses rendered from a cache of their viewer-independent part, merged with what is fresh.

Mastodon keeps rendered status JSON; so do we, for what no viewer changes: per post, the fields of
``entities.status_fields`` (content, media, mentions, tags, the community, the reply it answers
…) and per author the Account without its counts. Each is a ``CachedMap`` of
``services.hot_rows`` (``statuses``, ``accounts``) on the database's ``WriteWatch``: a write of a
post, an actor, media, a role or a community empties it in this process at once and, on
PostgreSQL, in the others over the event bus; an UPDATE of a post's counters alone does not. A
cached post whose ``edited_at`` differs from the row read fresh is rendered again, so an edit is
seen at once even where no bus runs (several processes on one SQLite file); the rest is bounded
there by the cache's TTL.

What changes often or depends on the viewer is read for every answer (``services.post_facts``):
the counts, the Account's counts, the viewer's flags, muted threads, polls and their votes. Which
boosted originals the viewer may see is decided by ``server.visibility`` before anything is
rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from server.api.entities import (
    assemble_status,
    status_fields,
    to_mastodon_account,
    to_mastodon_poll,
    viewer_flags,
    with_counts,
)
from server.context import Context
from server.services import account_counts, hot_rows
from server.services.account_counts import AccountExtras
from server.services.post_facts import Facts, Head
from server.services.views import actors_in, stored_in
from server.visibility import Viewer


@dataclass(frozen=True, slots=True)
class Cached:
    """A post's status fields as rendered for every viewer (never changed once cached)."""

    fields: dict
    author_id: int
    edited_at: datetime | None
    has_poll: bool


def entries_in(conn: Connection, ctx: Context, heads: dict[int, Head]) -> dict[int, Cached]:
    """The cached part of the statuses ``heads``, rendering (and caching) those not cached or
    edited since (a unit-of-work function)."""
    cache = hot_rows.statuses(hot_rows.engine_of(conn))
    base = ctx.base
    hits = cache.get_many([(post_id, base) for post_id in heads])
    out: dict[int, Cached] = {}
    missing: list[int] = []
    for post_id, head in heads.items():
        hit = hits.get((post_id, base))
        if hit is not None and hit.edited_at == head.edited_at:
            out[post_id] = hit
        else:
            missing.append(post_id)
    if missing:
        generation = cache.generation
        for row, view in stored_in(conn, missing, base, ctx.settings.domain):
            fields = status_fields(view, base=base)
            if row.reblog_of_id:
                fields["content"] = ""  # a boost's text is its original's
            entry = Cached(fields, row.author_id, row.edited_at, view.poll is not None)
            out[row.id] = entry
            cache.put((row.id, base), entry, generation)
    return out


def accounts_in(conn: Connection, ctx: Context, ids: set[int]) -> dict[int, dict]:
    """Accounts of the actors ``ids`` with fresh counts; the rest from the cache (a unit-of-work
    function)."""
    cache = hot_rows.accounts(hot_rows.engine_of(conn))
    base = ctx.base
    stats = account_counts.stats_in(conn, ids)
    hits = cache.get_many([(actor_id, base) for actor_id in ids])
    fields: dict[int, dict] = {}
    missing: set[int] = set()
    for actor_id in ids:
        hit = hits.get((actor_id, base))
        if hit is None:
            missing.add(actor_id)
        else:
            fields[actor_id] = hit
    if missing:
        generation = cache.generation
        actors = actors_in(conn, missing, base, ctx.settings.domain)
        competencies = account_counts.competencies_in(conn, missing)
        for actor_id, actor in actors.items():
            extras = AccountExtras(competencies=competencies.get(actor_id, []))
            rendered = fields[actor_id] = to_mastodon_account(actor, extras, base=base)
            cache.put((actor_id, base), rendered, generation)
    return {i: with_counts(f, stats[i]) for i, f in fields.items()}


def render(
    viewer: Viewer,
    head: Head,
    entry: Cached,
    facts: Facts,
    accounts: dict[int, dict],
    *,
    reblog: dict | None = None,
    muted: bool = False,
) -> dict:
    """One Status: the cached fields with the fresh counts, poll and the viewer's flags."""
    post_id = head.id
    poll = facts.polls.get(post_id) if entry.has_poll else None
    flags = facts.flags
    return assemble_status(
        entry.fields,
        account=accounts[entry.author_id],
        counts=(head.reblogs_count, head.favourites_count, facts.replies.get(post_id, 0)),
        reblog=reblog,
        poll=to_mastodon_poll(poll, viewer, hide_totals=post_id in facts.hidden_totals)
        if poll is not None
        else None,
        flags=viewer_flags(
            viewer,
            entry.author_id,
            favourited=post_id in flags["f"],
            reblogged=post_id in flags["o"],
            muted=muted,
            bookmarked=post_id in flags["b"],
            pinned=post_id in flags["n"],
        ),
    )
