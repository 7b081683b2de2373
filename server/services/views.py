"""Loading read models: post ids into ``PostView``s, actor ids into ``ActorView``s.

``posts_in`` turns post ids into ``PostView``s with author, boosted post, media, tags, mentions,
poll, community and the viewer's own flags, in a handful of prebuilt statements whatever the page
size: everything keyed by post and small (mentions, contributors, roles, tags, the viewer's flags,
which posts have a poll) comes back in one ``UNION ALL``, and lookups with nothing to look up are
skipped. It is a synchronous unit-of-work function (``await db.read(posts_in, …)``);
``load_posts`` is the same for code holding an ``AsyncConnection``.
Callers pass ids they obtained through the visibility module; boosted originals are checked again.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.services import hot_rows
from server.services.view_models import (
    ActorView,
    MediaView,
    PollView,
    PostView,
    actor_view,
    media_url,
)
from server.storage import schema as t
from server.storage.prepared import IDS, ME, prepared, viewer_params
from server.storage.prepared import rows as prepared_rows
from server.visibility import (
    ANONYMOUS,
    Audience,
    Viewer,
    anonymous_audiences,
    posts_visible_to,
)

__all__ = [
    "ActorView",
    "MediaView",
    "PollView",
    "PostView",
    "actor_view",
    "actors_in",
    "load_actors",
    "load_posts",
    "media_url",
    "polls_in",
    "posts_in",
    "stored_in",
    "visible_replies_in",
]


def _text(value: str) -> sa.ColumnElement[str]:
    return sa.cast(sa.literal(value), sa.String)


NULL_ID = sa.cast(sa.null(), t.Id)
NULL_TEXT = sa.cast(sa.null(), sa.String)

_ACTORS = sa.select(t.actors).where(t.actors.c.id.in_(IDS))
_POSTS = sa.select(t.posts).where(t.posts.c.id.in_(IDS))
_PARENT_AUTHORS = sa.select(t.posts.c.id, t.posts.c.author_id).where(t.posts.c.id.in_(IDS))
_MEDIA = (
    sa.select(t.media).where(t.media.c.post_id.in_(IDS)).order_by(t.media.c.position, t.media.c.id)
)
_COMMUNITIES = (
    sa.select(t.communities.c.id, t.communities.c.name, t.actors.c.username, t.actors.c.domain)
    .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
    .where(t.communities.c.id.in_(IDS))
)


@prepared
def _originals(viewer: Viewer) -> sa.Select:
    return sa.select(t.posts).where(t.posts.c.id.in_(IDS), posts_visible_to(viewer))


# What an anonymous viewer may see of the replies: the open audiences' denormalised counts.
_OPEN_REPLIES = (
    sa.select(t.post_reply_counts.c.post_id, sa.func.sum(t.post_reply_counts.c.replies))
    .where(
        t.post_reply_counts.c.post_id.in_(IDS),
        t.post_reply_counts.c.audience.in_(anonymous_audiences()),
    )
    .group_by(t.post_reply_counts.c.post_id)
)


@prepared
def _visible_replies(viewer: Viewer) -> sa.Select:
    # The stored count includes replies the viewer may not see (followers-only, direct …): an
    # anonymous viewer reads the open audiences' denormalised counts; anyone else counts the
    # replies, found by ``in_reply_to_id`` first (a materialised CTE, so no planner can walk the
    # audience index over most of the table instead) and filtered by visibility after.
    if viewer.anonymous:
        return _OPEN_REPLIES
    p = t.posts
    replies = (
        sa.select(
            p.c.id,
            p.c.in_reply_to_id,
            p.c.audience,
            p.c.author_id,
            p.c.community_id,
            p.c.deleted_at,
        )
        .where(p.c.in_reply_to_id.in_(IDS))
        .cte("replies")
        .prefix_with("MATERIALIZED")
    )
    return (
        sa.select(replies.c.in_reply_to_id, sa.func.count())
        .where(posts_visible_to(viewer, replies))
        .group_by(replies.c.in_reply_to_id)
    )


@prepared
def _attachments(viewer: Viewer) -> sa.CompoundSelect:
    """(kind, post_id, ref, label) rows: m mention, c contributor, r role, t tag, p poll, and for a
    member f favourite, b bookmark, n pin, o own boost."""
    parts: list[sa.Select] = [
        sa.select(_text("m"), t.post_mentions.c.post_id, t.post_mentions.c.actor_id, NULL_TEXT),
        sa.select(
            _text("c"), t.result_contributors.c.post_id, t.result_contributors.c.actor_id, NULL_TEXT
        ),
        sa.select(_text("r"), t.result_roles.c.post_id, t.roles.c.id, t.roles.c.name).join(
            t.roles, t.roles.c.id == t.result_roles.c.role_id
        ),
        sa.select(_text("t"), t.post_tags.c.post_id, t.post_tags.c.id, t.post_tags.c.tag),
        sa.select(_text("p"), t.polls.c.post_id, t.polls.c.id, NULL_TEXT),
    ]
    parts = [q.where(q.selected_columns[1].in_(IDS)) for q in parts]
    if viewer.actor_id is not None:
        for kind, table in (("f", t.favourites), ("b", t.bookmarks), ("n", t.pins)):
            parts.append(
                sa.select(_text(kind), table.c.post_id, NULL_ID, NULL_TEXT).where(
                    table.c.post_id.in_(IDS), table.c.actor_id == ME
                )
            )
        p = t.posts
        # ``+ 0``: found through the boosted posts' index, not by reading all the viewer's posts
        parts.append(
            sa.select(_text("o"), p.c.reblog_of_id, NULL_ID, NULL_TEXT).where(
                p.c.reblog_of_id.in_(IDS), p.c.author_id + 0 == ME, p.c.deleted_at.is_(None)
            )
        )
    return sa.union_all(*parts)


def actors_in(
    conn: sa.Connection, ids: set[int], base: str, local_domain: str
) -> dict[int, ActorView]:
    """ActorViews by id (a unit-of-work function)."""
    if not ids:
        return {}
    cache = hot_rows.actors(conn.engine)
    found: dict[int, ActorView] = {}
    missing = []
    for actor_id in ids:
        view = cache.get((actor_id, base, local_domain))
        if view is None:
            missing.append(actor_id)
        else:
            found[actor_id] = view
    if missing:
        generation = cache.generation
        for r in conn.execute(_ACTORS, {"ids": missing}):
            view = found[r.id] = actor_view(r, base, local_domain)
            cache.put((r.id, base, local_domain), view, generation)
    return found


async def load_actors(
    conn: AsyncConnection, ids: set[int], base: str, local_domain: str
) -> dict[int, ActorView]:
    """``actors_in`` over an async connection."""
    if not ids:
        return {}
    return await conn.run_sync(actors_in, ids, base, local_domain)


async def load_posts(
    conn: AsyncConnection, viewer: Viewer, ids: list[int], *, base: str, local_domain: str
) -> list[PostView]:
    """``posts_in`` over an async connection."""
    if not ids:
        return []
    return await conn.run_sync(posts_in, viewer, ids, base, local_domain)


class _Attached:
    """What the attachments query found, by post."""

    def __init__(self, rows: list[sa.Row]) -> None:
        self.mentions: dict[int, list[int]] = defaultdict(list)
        self.contributors: dict[int, list[int]] = defaultdict(list)
        self.roles: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.tags: dict[int, list[str]] = defaultdict(list)
        self.flags: dict[str, set[int]] = defaultdict(set)
        self.actor_ids: set[int] = set()
        tag_rows: list[tuple[int, int, str]] = []
        for kind, post_id, ref, label in rows:
            if kind == "m":
                self.mentions[post_id].append(ref)
                self.actor_ids.add(ref)
            elif kind == "c":
                self.contributors[post_id].append(ref)
                self.actor_ids.add(ref)
            elif kind == "r":
                self.roles[post_id].append((ref, label))
            elif kind == "t":
                tag_rows.append((ref, post_id, label))
            else:
                self.flags[kind].add(post_id)
        for _, post_id, tag in sorted(tag_rows):
            self.tags[post_id].append(tag)


def posts_in(
    conn: sa.Connection, viewer: Viewer, ids: list[int], base: str, local_domain: str
) -> list[PostView]:
    """PostViews for ``ids`` in the given order; boosts carry their original when the viewer may
    see it (a unit-of-work function)."""
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(_POSTS, {"ids": ids})}
    reblog_ids = [r.reblog_of_id for r in rows.values() if r.reblog_of_id]
    originals: dict[int, sa.Row] = {}
    if reblog_ids:
        stmt = _originals.get(viewer)
        found = conn.execute(stmt, {**viewer_params(viewer), "ids": reblog_ids})
        originals = {r.id: r for r in found}
    views = _views(conn, viewer, {**rows, **originals}, base, local_domain)
    out: list[PostView] = []
    for pid in ids:
        r = rows.get(pid)
        if r is None:
            continue
        view = views[pid]
        if r.reblog_of_id:
            orig = originals.get(r.reblog_of_id)
            if orig is None or orig.deleted_at is not None:
                continue
            # its own object: the original may be on the page too, and callers mark views
            view.reblog = dataclasses.replace(views[orig.id])
        out.append(view)
    return out


def stored_in(
    conn: sa.Connection, ids: list[int], base: str, local_domain: str
) -> list[tuple[sa.Row, PostView]]:
    """The posts ``ids`` as stored, each with its ``PostView`` built for no viewer (no flags, open
    reply counts, boosts without their original): what the status cache keeps of a post, whoever
    reads it (a unit-of-work function). Callers pass ids they obtained through the visibility
    module."""
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(_POSTS, {"ids": ids})}
    views = _views(conn, ANONYMOUS, rows, base, local_domain)
    return [(rows[i], views[i]) for i in ids if i in rows]


def _views(
    conn: sa.Connection,
    viewer: Viewer,
    all_rows: dict[int, sa.Row],
    base: str,
    local_domain: str,
) -> dict[int, PostView]:
    """A ``PostView`` per posts row (boosts without their original), with what is attached."""
    post_ids = list(all_rows)
    params = {**viewer_params(viewer), "ids": post_ids}
    visible_replies = dict(conn.execute(_visible_replies.get(viewer), params).all())
    attached = _Attached(list(conn.execute(_attachments.get(viewer), params)))
    parent_ids = {r.in_reply_to_id for r in all_rows.values() if r.in_reply_to_id}
    parent_authors: dict[int, int] = {}
    if parent_ids:
        found = conn.execute(_PARENT_AUTHORS, {"ids": list(parent_ids)})
        parent_authors = {r.id: r.author_id for r in found}
    actor_ids = {r.author_id for r in all_rows.values()} | attached.actor_ids
    actors = actors_in(conn, actor_ids, base, local_domain)
    media = _media(conn, post_ids, base)
    communities, community_paths = _communities(conn, all_rows.values())
    with_poll = attached.flags.get("p", set())
    polls = _polls(conn, viewer, with_poll) if with_poll else {}
    flags = attached.flags

    def build(r: sa.Row) -> PostView:
        handle, cname = communities.get(r.community_id, (None, None))
        return PostView(
            id=r.id,
            uri=r.uri,
            url=r.url or r.uri,
            author=actors[r.author_id],
            kind=r.kind,
            audience=Audience(r.audience),
            community_id=r.community_id,
            community_handle=handle,
            community_name=cname,
            community_path=community_paths.get(r.community_id),
            title=r.title,
            content_html=r.content_html or "",
            source=r.source or "",
            spoiler_text=r.spoiler_text or "",
            sensitive=bool(r.sensitive),
            language=r.language,
            in_reply_to_id=r.in_reply_to_id,
            in_reply_to_uri=r.in_reply_to_uri,
            in_reply_to_author_id=parent_authors.get(r.in_reply_to_id)
            if r.in_reply_to_id
            else None,
            thread_root_id=r.thread_root_id,
            roadmap_item_id=r.roadmap_item_id,
            created_at=clock.aware(r.created_at),
            edited_at=clock.aware(r.edited_at),
            local=bool(r.local),
            replies_count=int(visible_replies.get(r.id, 0)),
            reblogs_count=r.reblogs_count,
            favourites_count=r.favourites_count,
            media=media.get(r.id, []),
            tags=attached.tags.get(r.id, []),
            mentions=[actors[a] for a in attached.mentions.get(r.id, []) if a in actors],
            poll=polls.get(r.id),
            favourited=r.id in flags["f"],
            reblogged=r.id in flags["o"],
            bookmarked=r.id in flags["b"],
            pinned=r.id in flags["n"],
            roles=attached.roles.get(r.id, []),
            contributors=[actors[a] for a in attached.contributors.get(r.id, []) if a in actors],
            extra=dict(r.extra or {}),
        )

    return {pid: build(r) for pid, r in all_rows.items()}


def _media(conn: sa.Connection, post_ids: list[int], base: str) -> dict[int, list[MediaView]]:
    media: dict[int, list[MediaView]] = defaultdict(list)
    for r in conn.execute(_MEDIA, {"ids": post_ids}):
        url = media_url(base, r.path, r.remote_url)
        media[r.post_id].append(
            MediaView(
                id=r.id,
                kind=r.kind,
                url=url,
                preview_url=media_url(base, r.thumb_path, None) or url,
                mime_type=r.mime_type,
                description=r.description or "",
                width=r.width,
                height=r.height,
                blurhash=r.blurhash,
                focus_x=r.focus_x or 0.0,
                focus_y=r.focus_y or 0.0,
                remote_url=r.remote_url,
            )
        )
    return media


def _communities(
    conn: sa.Connection, rows: Any
) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """(handle, name) and the page here (/c/{handle} or /c/{handle}@{host}) of each community."""
    names: dict[int, tuple[str, str]] = {}
    paths: dict[int, str] = {}
    community_ids = {r.community_id for r in rows if r.community_id}
    if community_ids:
        for r in conn.execute(_COMMUNITIES, {"ids": list(community_ids)}):
            names[r.id] = (r.username, r.name)
            paths[r.id] = f"/c/{r.username}" if r.domain is None else f"/c/{r.username}@{r.domain}"
    return names, paths


_POLLS = sa.select(
    t.polls,
    sa.exists().where(t.purpose_decisions.c.post_id == t.polls.c.post_id).label("is_decision"),
).where(t.polls.c.post_id.in_(IDS))
_POLL_COUNTS = (
    sa.select(t.poll_votes.c.poll_id, t.poll_votes.c.choice, sa.func.count())
    .where(t.poll_votes.c.poll_id.in_(IDS))
    .group_by(t.poll_votes.c.poll_id, t.poll_votes.c.choice)
)
_POLL_VOTERS = (
    sa.select(t.poll_votes.c.poll_id, sa.func.count(sa.distinct(t.poll_votes.c.actor_id)))
    .where(t.poll_votes.c.poll_id.in_(IDS))
    .group_by(t.poll_votes.c.poll_id)
)


@prepared
def _own_votes(viewer: Viewer) -> sa.Select:
    return sa.select(t.poll_votes.c.poll_id, t.poll_votes.c.choice).where(
        t.poll_votes.c.poll_id.in_(IDS), t.poll_votes.c.actor_id == ME
    )


def _polls(conn: sa.Connection, viewer: Viewer, post_ids: set[int]) -> dict[int, PollView]:
    rows = list(conn.execute(_POLLS, {"ids": list(post_ids)}))
    if not rows:
        return {}
    poll_ids = {"ids": [r.id for r in rows]}
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for r in conn.execute(_POLL_COUNTS, poll_ids):
        counts[r[0]][r[1]] = r[2]
    voters: dict[int, int] = {r[0]: r[1] for r in conn.execute(_POLL_VOTERS, poll_ids)}
    own: dict[int, list[int]] = defaultdict(list)
    if viewer.actor_id is not None:
        for r in conn.execute(_own_votes.get(viewer), {**poll_ids, "me": viewer.actor_id}):
            own[r.poll_id].append(r.choice)
    out = {}
    for r in rows:
        options = list(r.options)
        remote = list(r.remote_counts or [])
        local_counts = [counts[r.id].get(i, 0) for i in range(len(options))]
        merged = [
            local_counts[i] + (remote[i] if i < len(remote) else 0) for i in range(len(options))
        ]
        out[r.post_id] = PollView(
            id=r.id,
            options=options,
            counts=merged,
            multiple=bool(r.multiple),
            expires_at=clock.aware(r.expires_at),
            voters_count=voters.get(r.id, 0) + (r.voters_count or 0),
            own_votes=sorted(own.get(r.id, [])),
            decision=bool(r.is_decision),
        )
    return out


def visible_replies_in(conn: sa.Connection, viewer: Viewer, ids: list[int]) -> dict[int, int]:
    """How many replies to each of the posts ``ids`` the viewer may see (absent: none)."""
    params = {**viewer_params(viewer), "ids": ids}
    return {k: int(v) for k, v in prepared_rows(conn, _visible_replies.get(viewer), params)}


def polls_in(conn: sa.Connection, viewer: Viewer, post_ids: set[int]) -> dict[int, PollView]:
    """The polls of the posts ``post_ids`` with their counts and the viewer's votes, by post."""
    return _polls(conn, viewer, post_ids) if post_ids else {}
