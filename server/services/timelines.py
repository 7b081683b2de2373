"""Timelines and listings: which post ids a viewer gets, newest first, paged by id.

Every query here is built on ``visibility.posts_visible_to`` / ``listed_for``; nothing else filters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import fulltext
from server.storage import schema as t
from server.storage.prepared import Prepared, rows, viewer_params
from server.visibility import Audience, Viewer, listed_for, posts_visible_to

MAX_LIMIT = 40


@dataclass(frozen=True, slots=True)
class Page:
    """Mastodon-style paging: ``max_id`` (older than), ``since_id`` (newer than), ``min_id``
    (immediately newer than, ascending), ``limit``."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def clamp(self) -> Page:
        return Page(self.max_id, self.since_id, self.min_id, max(1, min(self.limit, MAX_LIMIT)))


def _paged(query: sa.Select, id_col: sa.ColumnElement, shape: tuple[bool, bool, bool]) -> sa.Select:
    """The query with the page's bounds as parameters (``max_id``, ``since_id``, ``min_id``,
    ``limit``), ordered by id: newest first, or oldest first above ``min_id``."""
    has_max, has_since, has_min = shape
    if has_max:
        query = query.where(id_col < sa.bindparam("max_id"))
    if has_since:
        query = query.where(id_col > sa.bindparam("since_id"))
    if has_min:
        query = query.where(id_col > sa.bindparam("min_id"))
    order = id_col.asc() if has_min else id_col.desc()
    return query.order_by(order).limit(sa.bindparam("limit", type_=sa.Integer))


def _page_shape(page: Page) -> tuple[bool, bool, bool]:
    return (page.max_id is not None, page.since_id is not None, page.min_id is not None)


def _run_page(
    conn: sa.Connection,
    stmt: sa.Select,
    page: Page,
    params: dict[str, Any],
    *,
    built_once: bool = False,
) -> list[int]:
    """The page of ids ``stmt`` selects; ``built_once``: a prepared statement, run by
    ``prepared.rows`` (a statement built per request goes through SQLAlchemy's cache)."""
    page = page.clamp()
    bounds = {"max_id": page.max_id, "since_id": page.since_id, "min_id": page.min_id}
    values = {**params, **bounds, "limit": page.limit}
    found = rows(conn, stmt, values) if built_once else conn.execute(stmt, values)
    ids = [r[0] for r in found]
    return list(reversed(ids)) if page.min_id is not None else ids


async def page_ids(
    conn: AsyncConnection, query: sa.Select, id_col: sa.ColumnElement, page: Page
) -> list[int]:
    """Apply a Page to a query selecting ids; returns ids newest first."""
    stmt = _paged(query, id_col, _page_shape(page))
    return await conn.run_sync(_run_page, stmt, page, {})


def _not_muted_or_blocked(viewer: Viewer) -> sa.ColumnElement[bool]:
    me = viewer.actor_id
    if me is None:
        return sa.true()
    p = t.posts
    author = t.actors.alias(
        "domain_blocked_author"
    )  # an alias: never correlated with an outer actors
    udb = t.user_domain_blocks
    return sa.and_(
        ~sa.exists(
            sa.select(1).where(t.mutes.c.actor_id == me, t.mutes.c.target_id == p.c.author_id)
        ),
        ~sa.exists(
            sa.select(1).where(t.blocks.c.actor_id == me, t.blocks.c.target_id == p.c.author_id)
        ),
        # The member's own domain blocks hide every post written on those servers.
        ~sa.exists(
            sa.select(1)
            .select_from(udb.join(author, author.c.domain == udb.c.domain))
            .where(udb.c.actor_id == me, author.c.id == p.c.author_id)
        ),
    )


def _not_silenced(viewer: Viewer) -> sa.ColumnElement[bool]:
    """Posts of members a moderator silenced stay off the public feeds (their own view aside)."""
    author = t.actors.alias("silenced_author")
    hidden = ~sa.exists(
        sa.select(1).where(author.c.id == t.posts.c.author_id, author.c.silenced.is_(True))
    )
    if viewer.actor_id is None:
        return hidden
    return sa.or_(t.posts.c.author_id == viewer.actor_id, hidden)


def _feed(
    build: Callable[..., sa.Select], id_col: sa.ColumnElement = t.posts.c.id
) -> Prepared[sa.Select]:
    """A feed's statement per (viewer shape, flags, page shape), paged by post id (``id_col``:
    the column whose index the walk follows, the posts' own key unless named)."""
    return Prepared(lambda viewer, shape, *flags: _paged(build(viewer, *flags), id_col, shape))


def _feed_ids(
    conn: sa.Connection,
    feed: Prepared[sa.Select],
    viewer: Viewer,
    page: Page,
    *flags: Hashable,
    **params: Any,
) -> list[int]:
    stmt = feed.get(viewer, _page_shape(page), *flags)
    return _run_page(conn, stmt, page, {**viewer_params(viewer), **params}, built_once=True)


def home_sources(me: Any, without: Any = None) -> sa.ColumnElement[bool]:
    """Which posts belong to ``me``'s home: their own, those of the accounts they follow, and
    everything in the communities they joined (accepted follows only). ``without`` leaves one
    followed actor out (the one being unfollowed)."""
    p = t.posts
    accepted = sa.and_(t.follows.c.follower_id == me, t.follows.c.state == "accepted")
    if without is not None:
        accepted = sa.and_(accepted, t.follows.c.target_id != without)
    followed = sa.select(t.follows.c.target_id).where(accepted)
    joined = (
        sa.select(t.communities.c.id)
        .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
        .where(accepted)
    )
    # ``+ 0``: no index on author or community applies, so every planner walks the primary key
    # (or the feed's) newest first and stops at the page's end, instead of collecting every
    # followed post and sorting them (see docs/architecture.md, "SQLite and PostgreSQL").
    author, community = p.c.author_id + 0, p.c.community_id + 0
    return sa.or_(author == me, author.in_(followed), community.in_(joined))


def _home_sources_of_row(me: Any) -> sa.ColumnElement[bool]:
    """``home_sources`` asked of one post at a time (a key lookup per source), for a walk that
    visits few posts: the feed's. The list form above suits the walk of every post."""
    p, f = t.posts, t.follows
    accepted = sa.and_(f.c.follower_id == me, f.c.state == "accepted")
    return sa.or_(
        p.c.author_id == me,
        sa.exists(sa.select(1).where(accepted, f.c.target_id == p.c.author_id)),
        sa.exists(
            sa.select(1)
            .select_from(f.join(t.communities, t.communities.c.actor_id == f.c.target_id))
            .where(accepted, t.communities.c.id == p.c.community_id)
        ),
    )


def _home_rules(viewer: Viewer) -> list[sa.ColumnElement[bool]]:
    """What the home timeline asks of each post beyond its sources: visible to the viewer, not
    muted or blocked, and no boosts by those whose boosts the viewer turned off."""
    p, f = t.posts, t.follows
    boosts_off = sa.exists(
        sa.select(1).where(
            f.c.follower_id == viewer.actor_id,
            f.c.target_id == p.c.author_id,
            f.c.show_reblogs.is_(False),
        )
    )
    return [
        posts_visible_to(viewer),
        _not_muted_or_blocked(viewer),
        sa.or_(p.c.reblog_of_id.is_(None), sa.not_(boosts_off)),
    ]


@_feed
def _home(viewer: Viewer) -> sa.Select:
    """The home timeline from the posts themselves (beyond a feed's floor, or with no feed)."""
    return sa.select(t.posts.c.id).where(home_sources(viewer.actor_id), *_home_rules(viewer))


def _home_feed_query(viewer: Viewer) -> sa.Select:
    f, p = t.home_feed_entries, t.posts
    return (
        sa.select(f.c.post_id)
        .select_from(f.join(p, p.c.id == f.c.post_id))
        .where(
            f.c.actor_id == viewer.actor_id,
            f.c.post_id > sa.bindparam("floor", type_=t.Id),
            _home_sources_of_row(viewer.actor_id),
            *_home_rules(viewer),
        )
    )


# The precomputed part: a walk of the feed's primary key (actor, post) newest first.
_home_feed = Prepared(
    lambda viewer, shape: _paged(_home_feed_query(viewer), t.home_feed_entries.c.post_id, shape)
)
_FLOOR = sa.select(t.home_feeds.c.floor_id).where(
    t.home_feeds.c.actor_id == sa.bindparam("me", type_=t.Id)
)


def home_ids(conn: sa.Connection, viewer: Viewer, page: Page) -> list[int]:
    """The central news feed: own posts, people followed, and everything in joined communities
    (a unit-of-work function).

    Above its floor the account's precomputed feed names the candidates (``home_feed``); below
    it, or when the account has no feed yet, the posts themselves are searched. Either way each
    candidate passes the same home rule and visibility clause."""
    assert viewer.actor_id is not None
    mark = rows(conn, _FLOOR, {"me": viewer.actor_id})
    floor = mark[0][0] if mark else None
    if floor is None:
        return _feed_ids(conn, _home, viewer, page)
    page = page.clamp()
    lower = max((b for b in (page.since_id, page.min_id) if b is not None), default=None)

    def from_feed(limit: int) -> list[int]:
        stmt = _home_feed.get(viewer, _page_shape(page))
        part = dataclasses.replace(page, limit=limit)
        params = {**viewer_params(viewer), "floor": floor}
        return _run_page(conn, stmt, part, params, built_once=True)

    def beyond_floor(limit: int) -> list[int]:
        top = floor + 1 if page.max_id is None else min(page.max_id, floor + 1)
        return _feed_ids(conn, _home, viewer, dataclasses.replace(page, max_id=top, limit=limit))

    parts: list[Callable[[int], list[int]]] = []
    if page.max_id is None or page.max_id > floor + 1:
        parts.append(from_feed)
    if floor > 0 and (lower is None or lower < floor):
        parts.append(beyond_floor)
    ascending = page.min_id is not None  # the oldest above min_id: below the floor first
    found: list[list[int]] = []
    left = page.limit
    for part in reversed(parts) if ascending else parts:
        ids = part(left)
        found.append(ids)
        left -= len(ids)
        if left <= 0:
            break
    if ascending:
        found.reverse()
    return [i for ids in found for i in ids]


async def home(conn: AsyncConnection, viewer: Viewer, page: Page) -> list[int]:
    """``home_ids`` over an async connection."""
    return await conn.run_sync(home_ids, viewer, page)


@_feed
def _public(viewer: Viewer, local: bool, remote: bool, only_media: bool) -> sa.Select:
    p = t.posts
    q = sa.select(p.c.id).where(
        p.c.audience == Audience.PUBLIC.value,
        p.c.reblog_of_id.is_(None),
        posts_visible_to(viewer),
        _not_muted_or_blocked(viewer),
        _not_silenced(viewer),
    )
    if local:
        q = q.where(p.c.local.is_(True))
    if remote:
        q = q.where(p.c.local.is_(False))
    if only_media:
        q = q.where(sa.exists(sa.select(1).where(t.media.c.post_id == p.c.id)))
    return q


def public_ids(
    conn: sa.Connection,
    viewer: Viewer,
    page: Page,
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> list[int]:
    """Public posts, newest first (a unit-of-work function)."""
    return _feed_ids(conn, _public, viewer, page, local, remote, only_media)


async def public(
    conn: AsyncConnection,
    viewer: Viewer,
    page: Page,
    *,
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> list[int]:
    return await conn.run_sync(public_ids, viewer, page, local, remote, only_media)


@_feed
def _organisation(viewer: Viewer) -> sa.Select:
    p = t.posts
    return sa.select(p.c.id).where(
        p.c.local.is_(True),
        p.c.reblog_of_id.is_(None),
        p.c.audience != Audience.DIRECT.value,  # conversations stay in conversations
        listed_for(viewer),
        _not_muted_or_blocked(viewer),
        _not_silenced(viewer),
    )


def organisation_ids(conn: sa.Connection, viewer: Viewer, page: Page) -> list[int]:
    """The organisation feed: every post of this instance the viewer may see and that is meant
    for listings, newest first (a unit-of-work function)."""
    return _feed_ids(conn, _organisation, viewer, page)


async def organisation(conn: AsyncConnection, viewer: Viewer, page: Page) -> list[int]:
    """``organisation_ids`` over an async connection."""
    return await conn.run_sync(organisation_ids, viewer, page)


def _tag_query(viewer: Viewer, local: bool) -> sa.Select:
    """A hashtag's posts by a walk of its tags' (tag, post) index newest first: each post is
    then looked up by its key, so the page costs the same however many posts carry the tag."""
    p, pt = t.posts, t.post_tags
    q = (
        sa.select(pt.c.post_id)
        .select_from(pt.join(p, p.c.id == pt.c.post_id))
        .where(pt.c.tag == sa.bindparam("tag"), listed_for(viewer), _not_muted_or_blocked(viewer))
    )
    if local:
        q = q.where(p.c.local.is_(True))
    return q


_tag = _feed(_tag_query, t.post_tags.c.post_id)


def tag_ids(
    conn: sa.Connection, viewer: Viewer, name: str, page: Page, local: bool = False
) -> list[int]:
    """Listed posts with a hashtag, newest first (a unit-of-work function)."""
    return _feed_ids(conn, _tag, viewer, page, local, tag=name.lower())


async def tag(
    conn: AsyncConnection, viewer: Viewer, name: str, page: Page, *, local: bool = False
) -> list[int]:
    return await conn.run_sync(tag_ids, viewer, name, page, local)


@dataclass(frozen=True, slots=True)
class ProfileFilter:
    """What a profile listing leaves out or keeps (Mastodon's account statuses parameters)."""

    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    only_results: bool = False
    exclude_results: bool = False
    tagged: bool = False
    pinned: bool = False


@_feed
def _profile(viewer: Viewer, own: bool, f: ProfileFilter) -> sa.Select:
    p = t.posts
    actor_id = sa.bindparam("actor_id", type_=t.Id)
    cond = posts_visible_to(viewer) if own else listed_for(viewer)
    q = sa.select(p.c.id).where(p.c.author_id == actor_id, cond)
    if f.exclude_replies:
        q = q.where(p.c.in_reply_to_id.is_(None), p.c.in_reply_to_uri.is_(None))
    if f.exclude_reblogs:
        q = q.where(p.c.reblog_of_id.is_(None))
    if f.only_media:
        q = q.where(sa.exists(sa.select(1).where(t.media.c.post_id == p.c.id)))
    if f.only_results:
        q = q.where(p.c.kind == "result")
    if f.exclude_results:
        q = q.where(p.c.kind != "result")
    if f.tagged:
        tagged = sa.select(t.post_tags.c.post_id).where(t.post_tags.c.tag == sa.bindparam("tag"))
        q = q.where(p.c.id.in_(tagged))
    if f.pinned:
        q = q.where(p.c.id.in_(sa.select(t.pins.c.post_id).where(t.pins.c.actor_id == actor_id)))
    return q


def profile_ids(
    conn: sa.Connection,
    viewer: Viewer,
    actor_id: int,
    page: Page,
    f: ProfileFilter = ProfileFilter(),  # noqa: B008  # frozen, so a shared default is safe
    tagged: str | None = None,
) -> list[int]:
    """Posts on a profile. Unlisted posts show to the author only (DESIGN: "not listed")
    (a unit-of-work function)."""
    own = viewer.actor_id == actor_id
    f = dataclasses.replace(f, tagged=bool(tagged))
    tag_name = tagged.lower() if tagged else None
    return _feed_ids(conn, _profile, viewer, page, own, f, actor_id=actor_id, tag=tag_name)


async def profile(
    conn: AsyncConnection,
    viewer: Viewer,
    actor_id: int,
    page: Page,
    *,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    only_media: bool = False,
    only_results: bool = False,
    exclude_results: bool = False,
    tagged: str | None = None,
    pinned: bool = False,
) -> list[int]:
    """``profile_ids`` over an async connection."""
    f = ProfileFilter(
        exclude_replies, exclude_reblogs, only_media, only_results, exclude_results, False, pinned
    )
    return await conn.run_sync(profile_ids, viewer, actor_id, page, f, tagged)


@_feed
def _community(viewer: Viewer, only_results: bool, by_role: bool, by_item: bool) -> sa.Select:
    p = t.posts
    q = sa.select(p.c.id).where(
        p.c.community_id == sa.bindparam("community_id", type_=t.Id),
        p.c.reblog_of_id.is_(None),
        listed_for(viewer),
    )
    if only_results:
        q = q.where(p.c.kind == "result")
    if by_role:
        role = t.result_roles.c.role_id == sa.bindparam("role_id", type_=t.Id)
        q = q.where(p.c.id.in_(sa.select(t.result_roles.c.post_id).where(role)))
    if by_item:
        q = q.where(p.c.roadmap_item_id == sa.bindparam("roadmap_item_id", type_=t.Id))
    return q


def community_ids(
    conn: sa.Connection,
    viewer: Viewer,
    community_id: int,
    page: Page,
    only_results: bool = False,
    role_id: int | None = None,
    roadmap_item_id: int | None = None,
) -> list[int]:
    """A community's feed (posts and results addressed to it), as the viewer may see it
    (a unit-of-work function)."""
    flags = (only_results, role_id is not None, roadmap_item_id is not None)
    return _feed_ids(
        conn,
        _community,
        viewer,
        page,
        *flags,
        community_id=community_id,
        role_id=role_id,
        roadmap_item_id=roadmap_item_id,
    )


async def community(
    conn: AsyncConnection,
    viewer: Viewer,
    community_id: int,
    page: Page,
    *,
    only_results: bool = False,
    role_id: int | None = None,
    roadmap_item_id: int | None = None,
) -> list[int]:
    """``community_ids`` over an async connection."""
    return await conn.run_sync(
        community_ids, viewer, community_id, page, only_results, role_id, roadmap_item_id
    )


@_feed
def _results(viewer: Viewer) -> sa.Select:
    p = t.posts
    return sa.select(p.c.id).where(p.c.kind == "result", p.c.local.is_(True), listed_for(viewer))


async def results(conn: AsyncConnection, viewer: Viewer, page: Page) -> list[int]:
    """The instance's results, as the viewer may see them (public ones for anonymous visitors)."""
    return await conn.run_sync(_feed_ids, _results, viewer, page)


async def thread(
    conn: AsyncConnection, viewer: Viewer, post_id: int
) -> tuple[list[int], list[int]]:
    """(ancestors oldest first, descendants in reading order) of a post, as the viewer may see them."""
    p = t.posts
    ancestors: list[int] = []
    current = (await conn.execute(sa.select(p.c.in_reply_to_id).where(p.c.id == post_id))).scalar()
    seen = {post_id}
    while current is not None and current not in seen and len(ancestors) < 100:
        seen.add(current)
        row = (
            await conn.execute(
                sa.select(p.c.id, p.c.in_reply_to_id).where(
                    p.c.id == current, posts_visible_to(viewer)
                )
            )
        ).first()
        if row is None:
            break
        ancestors.append(row.id)
        current = row.in_reply_to_id
    ancestors.reverse()
    root = ancestors[0] if ancestors else post_id
    rows = list(
        await conn.execute(
            sa.select(p.c.id, p.c.in_reply_to_id)
            .where(
                sa.or_(p.c.thread_root_id == root, p.c.thread_root_id == post_id),
                posts_visible_to(viewer),
            )
            .order_by(p.c.id)
        )
    )
    children: dict[int, list[int]] = {}
    for r in rows:
        children.setdefault(r.in_reply_to_id, []).append(r.id)
    descendants: list[int] = []

    def walk(node: int) -> None:
        for child in children.get(node, []):
            if child not in seen:
                seen.add(child)
                descendants.append(child)
                walk(child)

    walk(post_id)
    return ancestors, descendants


async def search_posts(
    conn: AsyncConnection, viewer: Viewer, query: str, page: Page, *, offset: int = 0
) -> list[int]:
    """Full-text search of posts (``storage/fulltext.py``): the posts the viewer may see that
    have every word of ``query`` (each as a prefix, accents ignored), newest first, paged by id
    like a timeline (and by ``offset``, as Mastodon's search API pages)."""
    words = fulltext.query_words(query)
    if not words:
        return []
    p = t.posts
    q = sa.select(p.c.id).where(
        p.c.id.in_(fulltext.matching_posts(conn.dialect.name, words)),
        p.c.deleted_at.is_(None),
        posts_visible_to(viewer),
    )
    if offset:
        page = page.clamp()
        stmt = _paged(q, p.c.id, _page_shape(page)).offset(offset)
        return await conn.run_sync(_run_page, stmt, page, {})
    return await page_ids(conn, q, p.c.id, page)
