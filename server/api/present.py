"""Load and serialise in batches: statuses and accounts for one API answer in a fixed number of queries.

Callers pass ids they obtained through the visibility module (timelines, searches, ``can_see_post``).
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from server.api import status_cache
from server.api.filters import filter_json
from server.context import Context
from server.errors import NotFound
from server.services import filters, post_facts
from server.services.text import html_to_text
from server.visibility import Viewer


async def accounts_by_id(conn: AsyncConnection, ctx: Context, ids: list[int]) -> list[dict]:
    """Accounts of the actors ``ids``, in order (unknown ones left out), with fresh counts; the
    rest as ``status_cache`` keeps it rendered."""
    found = await conn.run_sync(status_cache.accounts_in, ctx, set(ids))
    return [found[i] for i in ids if i in found]


async def account_json(conn: AsyncConnection, ctx: Context, actor_id: int) -> dict:
    found = await accounts_by_id(conn, ctx, [actor_id])
    if not found:
        raise NotFound("Record not found")
    return found[0]


def statuses_in(
    conn: Connection,
    ctx: Context,
    viewer: Viewer,
    ids: list[int],
    context: str | None = None,
) -> list[dict]:
    """Statuses for post ids (already visibility-checked), in order (a unit-of-work function):
    the viewer-independent part from ``status_cache``, the rest read fresh.

    ``context`` (``home``, ``public``, ``thread``, ``account``, ``notifications``) applies the
    viewer's filters there: a ``hide`` match leaves the status out, others add ``filtered``.
    """
    if not ids:
        return []
    heads, originals = post_facts.heads_in(conn, viewer, ids)
    shown, rendered = post_facts.shown_of(ids, heads, originals)
    if not shown:
        return []
    entries = status_cache.entries_in(conn, ctx, rendered)
    roots = list({h.thread_root_id or h.id for h in shown})
    with_poll = {i for i, e in entries.items() if e.has_poll}
    filtering = context is not None and viewer.actor_id is not None
    facts = post_facts.facts_in(
        conn, viewer, list(rendered), roots, with_poll, with_filters=filtering
    )
    accounts = status_cache.accounts_in(conn, ctx, {e.author_id for e in entries.values()})
    out = []
    for h in shown:
        reblog = None
        if h.reblog_of_id is not None:
            original = originals[h.reblog_of_id]
            reblog = status_cache.render(viewer, original, entries[original.id], facts, accounts)
        muted = (h.thread_root_id or h.id) in facts.muted_roots
        out.append(
            status_cache.render(
                viewer, h, entries[h.id], facts, accounts, reblog=reblog, muted=muted
            )
        )
    if filtering and facts.filtered:  # the filters themselves only for a viewer who has some
        assert context is not None and viewer.actor_id is not None
        out = apply_filters(filters.active_in(conn, viewer.actor_id, context), out)
    return out


async def statuses_json(
    conn: AsyncConnection,
    ctx: Context,
    viewer: Viewer,
    ids: list[int],
    *,
    context: str | None = None,
) -> list[dict]:
    """``statuses_in`` over an async connection."""
    if not ids:
        return []
    return await conn.run_sync(statuses_in, ctx, viewer, ids, context)


def _searchable(status: dict) -> str:
    """What filter keywords look at: text, content warning, media descriptions, poll options."""
    parts = [html_to_text(status.get("content") or ""), status.get("spoiler_text") or ""]
    parts += [m.get("description") or "" for m in status.get("media_attachments") or []]
    parts += [o.get("title") or "" for o in (status.get("poll") or {}).get("options") or []]
    return "\n".join(parts)


def apply_filters(active: list[filters.Filter], statuses: list[dict]) -> list[dict]:
    """Leave out statuses a ``hide`` filter matches; mark the others' matches in ``filtered``."""
    if not active:
        return statuses
    kept = []
    for status in statuses:
        shown = status["reblog"] if status.get("reblog") else status
        found = filters.matches(active, int(shown["id"]), _searchable(shown))
        if any(m.filter.action == "hide" for m in found):
            continue
        results = [
            {
                "filter": filter_json(m.filter),
                "keyword_matches": m.keywords or None,
                "status_matches": [str(i) for i in m.status_ids] or None,
            }
            for m in found
        ]
        status["filtered"] = results
        if status.get("reblog"):
            status["reblog"]["filtered"] = results
        kept.append(status)
    return kept
