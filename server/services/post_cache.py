"""``PostView``s from a cache of what no viewer changes, merged with what is read fresh.

The pages' counterpart of ``api.status_cache``: per post, the ``PostView`` built for no viewer
(``views.stored_in``: author, content, media, mentions, tags, community, roles, contributors) is
kept in ``hot_rows.post_views`` (emptied by a write of a post, an actor, a community, a role or
media, in this process at once and on PostgreSQL in the others over the event bus; a change of
counts alone leaves it) and checked against the fresh ``edited_at``. Counts, the replies the
viewer may see, the viewer's flags and polls come from ``post_facts`` on every read, and which
boosted originals the viewer may see is decided there by ``server.visibility``, so ``posts_in``
answers exactly as ``views.posts_in`` does.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import hot_rows, post_facts
from server.services.post_facts import Facts, Head
from server.services.views import PostView, stored_in
from server.visibility import Viewer


def _stored(
    conn: sa.Connection, heads: dict[int, Head], base: str, local_domain: str
) -> dict[int, PostView]:
    """The viewer-independent ``PostView`` of each post of ``heads``, cached."""
    cache = hot_rows.post_views(hot_rows.engine_of(conn))
    out: dict[int, PostView] = {}
    missing: list[int] = []
    for post_id, head in heads.items():
        hit = cache.get((post_id, base, local_domain))
        if hit is not None and hit[0] == head.edited_at:
            out[post_id] = hit[1]
        else:
            missing.append(post_id)
    if missing:
        generation = cache.generation
        for row, view in stored_in(conn, missing, base, local_domain):
            out[row.id] = view
            cache.put((row.id, base, local_domain), (row.edited_at, view), generation)
    return out


def _fresh(view: PostView, head: Head, facts: Facts) -> PostView:
    post_id = head.id
    flags = facts.flags
    return dataclasses.replace(
        view,
        replies_count=facts.replies.get(post_id, 0),
        reblogs_count=head.reblogs_count,
        favourites_count=head.favourites_count,
        poll=facts.polls.get(post_id) if view.poll is not None else None,
        favourited=post_id in flags["f"],
        reblogged=post_id in flags["o"],
        bookmarked=post_id in flags["b"],
        pinned=post_id in flags["n"],
    )


def posts_in(
    conn: sa.Connection, viewer: Viewer, ids: list[int], base: str, local_domain: str
) -> list[PostView]:
    """PostViews for ``ids`` in the given order, boosts with their original when the viewer may
    see it: the same as ``views.posts_in`` (a unit-of-work function). Callers pass ids they
    obtained through the visibility module."""
    if not ids:
        return []
    heads, originals = post_facts.heads_in(conn, viewer, ids)
    shown, wanted = post_facts.shown_of(ids, heads, originals)
    if not shown:
        return []
    stored = _stored(conn, wanted, base, local_domain)
    with_poll = {i for i, v in stored.items() if v.poll is not None}
    facts = post_facts.facts_in(conn, viewer, list(wanted), [], with_poll)
    out = []
    for h in shown:
        view = _fresh(stored[h.id], h, facts)
        if h.reblog_of_id is not None:
            original = originals[h.reblog_of_id]
            view.reblog = _fresh(stored[original.id], original, facts)
        out.append(view)
    return out


async def load_posts(
    conn: AsyncConnection, viewer: Viewer, ids: list[int], *, base: str, local_domain: str
) -> list[PostView]:
    """``posts_in`` over an async connection."""
    if not ids:
        return []
    return await conn.run_sync(posts_in, viewer, ids, base, local_domain)
