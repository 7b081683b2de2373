"""Load and serialise in batches: statuses and accounts for one API answer in a fixed number of queries.

Callers pass ids they obtained through the visibility module (timelines, searches, ``can_see_post``).
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.api.entities import AccountExtras, to_mastodon_account, to_mastodon_status
from server.api.filters import filter_json
from server.context import Context
from server.services import filters
from server.services.text import html_to_text
from server.services.views import ActorView, load_actors, posts_in
from server.storage import schema as t
from server.storage.prepared import IDS, ME
from server.visibility import Viewer

_FOLLOW_COUNTS = sa.union_all(
    sa.select(sa.literal(1), t.follows.c.target_id, sa.func.count())
    .where(t.follows.c.target_id.in_(IDS), t.follows.c.state == "accepted")
    .group_by(t.follows.c.target_id),
    sa.select(sa.literal(2), t.follows.c.follower_id, sa.func.count())
    .where(t.follows.c.follower_id.in_(IDS), t.follows.c.state == "accepted")
    .group_by(t.follows.c.follower_id),
)
_STATUS_COUNTS = (
    sa.select(t.posts.c.author_id, sa.func.count(), sa.func.max(t.posts.c.created_at))
    .where(t.posts.c.author_id.in_(IDS), t.posts.c.deleted_at.is_(None))
    .group_by(t.posts.c.author_id)
)
_COMPETENCIES = (
    sa.select(t.competencies.c.actor_id, t.competencies.c.name, t.competencies.c.level)
    .where(t.competencies.c.actor_id.in_(IDS))
    .order_by(t.competencies.c.name)
)
_MUTED_THREADS = sa.select(t.conversation_mutes.c.thread_root_id).where(
    t.conversation_mutes.c.actor_id == ME, t.conversation_mutes.c.thread_root_id.in_(IDS)
)
_HIDDEN_TOTALS = sa.select(t.polls.c.post_id).where(
    t.polls.c.post_id.in_(IDS), t.polls.c.hide_totals.is_(True)
)


def account_extras_in(conn: sa.Connection, ids: set[int]) -> dict[int, AccountExtras]:
    """Follower/following/status counts and competencies for these actors (a unit of work)."""
    out = {i: AccountExtras() for i in ids}
    if not ids:
        return out
    params = {"ids": list(ids)}
    for which, actor_id, n in conn.execute(_FOLLOW_COUNTS, params):
        if which == 1:
            out[actor_id].followers_count = n
        else:
            out[actor_id].following_count = n
    for r in conn.execute(_STATUS_COUNTS, params):
        out[r[0]].statuses_count = r[1]
        out[r[0]].last_status_at = r[2]
    comps: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for r in conn.execute(_COMPETENCIES, params):
        comps[r.actor_id].append((r.name, r.level))
    for actor_id, entries in comps.items():
        out[actor_id].competencies = entries
    return out


async def account_extras(conn: AsyncConnection, ids: set[int]) -> dict[int, AccountExtras]:
    """``account_extras_in`` over an async connection."""
    return await conn.run_sync(account_extras_in, ids)


def _accounts(conn: sa.Connection, ctx: Context, actors: list[ActorView]) -> list[dict]:
    extras = account_extras_in(conn, {a.id for a in actors})
    return [to_mastodon_account(a, extras.get(a.id), base=ctx.base) for a in actors]


async def accounts_json(conn: AsyncConnection, ctx: Context, actors: list[ActorView]) -> list[dict]:
    """Accounts for actor views, in order, with counts."""
    return await conn.run_sync(_accounts, ctx, actors)


async def accounts_by_id(conn: AsyncConnection, ctx: Context, ids: list[int]) -> list[dict]:
    actors = await load_actors(conn, set(ids), ctx.base, ctx.settings.domain)
    return await accounts_json(conn, ctx, [actors[i] for i in ids if i in actors])


async def account_json(conn: AsyncConnection, ctx: Context, actor_id: int) -> dict:
    from server.errors import NotFound

    found = await accounts_by_id(conn, ctx, [actor_id])
    if not found:
        raise NotFound("Record not found")
    return found[0]


def statuses_in(
    conn: sa.Connection,
    ctx: Context,
    viewer: Viewer,
    ids: list[int],
    context: str | None = None,
) -> list[dict]:
    """Statuses for post ids (already visibility-checked), in order (a unit-of-work function).

    ``context`` (``home``, ``public``, ``thread``, ``account``, ``notifications``) applies the
    viewer's filters there: a ``hide`` match leaves the status out, others add ``filtered``.
    """
    posts = posts_in(conn, viewer, ids, ctx.base, ctx.settings.domain)
    if not posts:
        return []
    authors: dict[int, ActorView] = {}
    for post in posts:
        authors[post.author.id] = post.author
        if post.reblog is not None:
            authors[post.reblog.author.id] = post.reblog.author
    accounts = dict(zip(authors, _accounts(conn, ctx, list(authors.values())), strict=False))
    muted_threads: set[int] = set()
    if viewer.actor_id is not None:
        roots = list({p.thread_root_id or p.id for p in posts})
        found = conn.execute(_MUTED_THREADS, {"me": viewer.actor_id, "ids": roots})
        muted_threads = {r[0] for r in found}
    with_poll = [
        p.id for post in posts for p in (post, post.reblog) if p is not None and p.poll is not None
    ]
    hidden: set[int] = set()
    if with_poll:
        hidden = {r[0] for r in conn.execute(_HIDDEN_TOTALS, {"ids": with_poll})}
    out = []
    for post in posts:
        post.muted = (post.thread_root_id or post.id) in muted_threads
        out.append(
            to_mastodon_status(post, viewer, base=ctx.base, accounts=accounts, hidden_totals=hidden)
        )
    if context is not None and viewer.actor_id is not None:
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
