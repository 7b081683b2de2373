"""Precomputed home feeds: which posts each local account's home timeline names, kept on write.

A feed is the account's home sources (``timelines.home_sources``: own posts, followed accounts,
joined communities) above its floor: every such post with an id above ``home_feeds.floor_id``
has its row in ``home_feed_entries``, in the transaction that made it one:

- a post is written (a local post or boost: the ``POST_CREATED`` / ``REBLOG_CREATED`` listeners;
  a remote post or boost: ``ingest.post_from_activity`` / ``posts.receive_boost`` call
  ``post_added``) — its row goes to the author's followers and the community's members;
- a follow is accepted (``FOLLOW_CREATED`` accepted at once, ``FOLLOW_ACCEPTED``, a remote
  ``Accept``) — the newest ``MAX_LENGTH`` posts of the followed actor (and of its community) come in;
- a follow ends (``FOLLOW_UNDONE`` / ``FOLLOW_REJECTED``) — its posts go, unless another source
  still brings them; a post is deleted (``POST_DELETED``) — its rows go.

Mutes, blocks, domain blocks, boosts turned off and the audience are not written into the feed:
the read applies them, with the home rule, to every candidate (``timelines.home_ids``), so they
take effect at once both ways. A feed is trimmed to ``MAX_LENGTH`` rows once it passes
``MAX_LENGTH + TRIM_SLACK``; trimming raises the floor, and pages below it are read from the posts.

A feed is built (``rebuild``) on the account's first follow or post, or by
``koers feeds rebuild``; an account without one reads its home from the posts as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import event_kinds as kinds
from server.context import Context
from server.errors import NotFound
from server.events import Event
from server.i18n.messages import Message
from server.services.timelines import home_sources
from server.storage import schema as t
from server.storage.db import Database

log = logging.getLogger(__name__)

MAX_LENGTH = 800  # rows kept per feed (Mastodon keeps 800 too): 20 pages of 40
TRIM_SLACK = 200  # rows a feed may gain past MAX_LENGTH before it is trimmed back

F, E, P = t.home_feeds, t.home_feed_entries, t.posts
_ME = sa.bindparam("me", type_=t.Id)
_SOURCE = sa.bindparam("source", type_=t.Id)
_ABOVE = sa.bindparam("above", type_=t.Id)
_LIMIT = sa.bindparam("limit", type_=sa.Integer)

# The newest posts of one source above a floor, by the (author, id) and (community, id) indexes.
_BY_AUTHOR = (
    sa.select(P.c.id)
    .where(P.c.author_id == _SOURCE, P.c.id > _ABOVE, P.c.deleted_at.is_(None))
    .order_by(P.c.id.desc())
    .limit(_LIMIT)
)
_IN_COMMUNITY = (
    sa.select(P.c.id)
    .where(P.c.community_id == _SOURCE, P.c.id > _ABOVE, P.c.deleted_at.is_(None))
    .order_by(P.c.id.desc())
    .limit(_LIMIT)
)
_MARK = sa.select(F.c.floor_id, F.c.length).where(F.c.actor_id == _ME)
_CUT = (
    sa.select(E.c.post_id)
    .where(E.c.actor_id == _ME)
    .order_by(E.c.post_id.desc())
    .limit(1)
    .offset(sa.bindparam("keep", type_=sa.Integer))
)


_ACCOUNT = sa.select(t.users.c.id).where(t.users.c.actor_id == _ME)


def _is_account(conn: sa.Connection, actor_id: int) -> bool:
    """Only local accounts (with a ``users`` row) have a home feed."""
    return conn.execute(_ACCOUNT, {"me": actor_id}).first() is not None


def _communities_of(conn: sa.Connection, actor_ids: list[int]) -> dict[int, int]:
    """The community of each of these actors that is a community's Group."""
    if not actor_ids:
        return {}
    rows = conn.execute(
        sa.select(t.communities.c.actor_id, t.communities.c.id).where(
            t.communities.c.actor_id.in_(actor_ids)
        )
    )
    return {r[0]: r[1] for r in rows}


def _newest(conn: sa.Connection, stmt: sa.Select, source: int, above: int) -> list[int]:
    rows = conn.execute(stmt, {"source": source, "above": above, "limit": MAX_LENGTH})
    return [r[0] for r in rows]


def _take(floor: int, batches: Iterable[list[int]]) -> tuple[int, list[int]]:
    """Merge per-source batches (each the newest ``MAX_LENGTH`` of its source above ``floor``)
    into the feed's rows and its new floor: below the oldest of a full batch, or below the
    newest ``MAX_LENGTH`` in all, a source may have more that the feed does not hold."""
    ids: set[int] = set()
    for batch in batches:
        ids.update(batch)
        if len(batch) >= MAX_LENGTH:
            floor = max(floor, min(batch) - 1)
    kept = sorted((i for i in ids if i > floor), reverse=True)
    if len(kept) > MAX_LENGTH:
        floor = kept[MAX_LENGTH]
        kept = kept[:MAX_LENGTH]
    return floor, kept


def _source_batches(conn: sa.Connection, targets: list[int], above: int) -> list[list[int]]:
    """The newest posts above ``above`` of each target: by it, and in its community if a Group."""
    communities = _communities_of(conn, targets)
    batches = []
    for target in targets:
        batches.append(_newest(conn, _BY_AUTHOR, target, above))
        if target in communities:
            batches.append(_newest(conn, _IN_COMMUNITY, communities[target], above))
    return batches


def rebuild(conn: sa.Connection, actor_id: int) -> int:
    """Build the account's feed afresh from its home sources; returns its length (a unit of work)."""
    followed = [
        r[0]
        for r in conn.execute(
            sa.select(t.follows.c.target_id).where(
                t.follows.c.follower_id == actor_id, t.follows.c.state == "accepted"
            )
        )
    ]
    own = _newest(conn, _BY_AUTHOR, actor_id, 0)
    floor, kept = _take(0, [own, *_source_batches(conn, followed, 0)])
    conn.execute(E.delete().where(E.c.actor_id == actor_id))
    conn.execute(F.delete().where(F.c.actor_id == actor_id))
    conn.execute(F.insert().values(actor_id=actor_id, floor_id=floor, length=len(kept)))
    if kept:
        conn.execute(E.insert(), [{"actor_id": actor_id, "post_id": i} for i in kept])
    return len(kept)


def _trim(conn: sa.Connection, actor_id: int, floor: int) -> None:
    """Back to ``MAX_LENGTH`` rows; the floor rises to the newest row let go."""
    cut = conn.execute(_CUT, {"me": actor_id, "keep": MAX_LENGTH}).scalar()
    if cut is not None:
        conn.execute(E.delete().where(E.c.actor_id == actor_id, E.c.post_id <= cut))
        floor = max(floor, cut)
    length = conn.execute(
        sa.select(sa.func.count()).select_from(E).where(E.c.actor_id == actor_id)
    ).scalar_one()
    conn.execute(F.update().where(F.c.actor_id == actor_id).values(floor_id=floor, length=length))


_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_GROW = (
    F.update()
    .where(F.c.actor_id.in_(_IDS))
    .values(length=F.c.length + sa.bindparam("by", type_=sa.Integer))
)
_OVER = sa.select(F.c.actor_id, F.c.floor_id).where(
    F.c.actor_id.in_(_IDS), F.c.length > sa.bindparam("bound", type_=sa.Integer)
)


def _grew(conn: sa.Connection, actor_ids: list[int], by: int = 1) -> None:
    """Count rows written to these feeds, trimming those past their bound."""
    if not actor_ids:
        return
    conn.execute(_GROW, {"ids": actor_ids, "by": by})
    over = conn.execute(_OVER, {"ids": actor_ids, "bound": MAX_LENGTH + TRIM_SLACK})
    for actor_id, floor in list(over):
        _trim(conn, actor_id, floor)


def _recipients(with_community: bool) -> sa.Select:
    """The built feeds a post belongs to: its author's, its author's followers', and (with a
    community) the community's members'."""
    follows, communities = t.follows, t.communities
    followers = sa.select(follows.c.follower_id).where(
        follows.c.target_id == sa.bindparam("author", type_=t.Id), follows.c.state == "accepted"
    )
    audience = [F.c.actor_id == sa.bindparam("author", type_=t.Id), F.c.actor_id.in_(followers)]
    if with_community:
        members = (
            sa.select(follows.c.follower_id)
            .join(communities, communities.c.actor_id == follows.c.target_id)
            .where(
                communities.c.id == sa.bindparam("community", type_=t.Id),
                follows.c.state == "accepted",
            )
        )
        audience.append(F.c.actor_id.in_(members))
    return sa.select(F.c.actor_id).where(sa.or_(*audience))


_POST = sa.select(P.c.author_id, P.c.community_id).where(P.c.id == sa.bindparam("post", type_=t.Id))
_RECIPIENTS = {False: _recipients(False), True: _recipients(True)}


def post_added(conn: sa.Connection, post_id: int) -> None:
    """A post was written: its row goes into every built feed it belongs to (a unit of work).

    The author's own feed is built here if it was not yet (a local account's first post)."""
    post = conn.execute(_POST, {"post": post_id}).one()
    stmt = _RECIPIENTS[post.community_id is not None]
    params = {"author": post.author_id, "community": post.community_id}
    feeds = [r[0] for r in conn.execute(stmt, params)]
    if feeds:
        conn.execute(E.insert(), [{"actor_id": a, "post_id": post_id} for a in feeds])
        _grew(conn, feeds)
    if post.author_id not in feeds and _is_account(conn, post.author_id):
        rebuild(conn, post.author_id)


_FOLLOWER_FEEDS = (
    sa.select(t.follows.c.target_id, F.c.actor_id)
    .join(F, F.c.actor_id == t.follows.c.follower_id)
    .where(t.follows.c.target_id.in_(_IDS), t.follows.c.state == "accepted")
)
_OWN_FEEDS = sa.select(F.c.actor_id).where(F.c.actor_id.in_(_IDS))
_ACCOUNTS = sa.select(t.users.c.actor_id).where(t.users.c.actor_id.in_(_IDS))


def posts_added(conn: sa.Connection, added: list[tuple[int, int]]) -> None:
    """``post_added`` for many posts outside communities at once, ``added`` being (post id,
    author id) pairs: one read of their authors' followers' feeds, one insert of every row, one
    count per feed (a unit of work)."""
    if not added:
        return
    authors = sorted({author for _, author in added})
    followers: dict[int, list[int]] = {}
    for target, feed in conn.execute(_FOLLOWER_FEEDS, {"ids": authors}):
        followers.setdefault(target, []).append(feed)
    own = {r[0] for r in conn.execute(_OWN_FEEDS, {"ids": authors})}
    rows: list[dict[str, int]] = []
    grown: dict[int, int] = {}
    for post_id, author in added:
        reached = dict.fromkeys([author] if author in own else [])
        reached.update(dict.fromkeys(followers.get(author, ())))
        for feed in reached:
            rows.append({"actor_id": feed, "post_id": post_id})
            grown[feed] = grown.get(feed, 0) + 1
    if rows:
        conn.execute(E.insert(), rows)
        by_count: dict[int, list[int]] = {}
        for feed, count in grown.items():
            by_count.setdefault(count, []).append(feed)
        for count, feeds in by_count.items():
            _grew(conn, feeds, count)
    without = [a for a in authors if a not in own]
    if without:
        for (actor_id,) in list(conn.execute(_ACCOUNTS, {"ids": without})):
            rebuild(conn, actor_id)


def follow_accepted(conn: sa.Connection, follower_id: int, target_id: int) -> None:
    """``follower_id`` now follows (or is a member of) ``target_id``: its newest posts come in
    (a unit of work). A local follower without a feed gets one built."""
    mark = conn.execute(_MARK, {"me": follower_id}).first()
    if mark is None:
        if _is_account(conn, follower_id):
            rebuild(conn, follower_id)
        return
    floor, fresh = _take(mark.floor_id, _source_batches(conn, [target_id], mark.floor_id))
    if floor > mark.floor_id:
        conn.execute(E.delete().where(E.c.actor_id == follower_id, E.c.post_id <= floor))
        conn.execute(F.update().where(F.c.actor_id == follower_id).values(floor_id=floor))
    if fresh:
        held = {
            r[0]
            for r in conn.execute(
                sa.select(E.c.post_id).where(E.c.actor_id == follower_id, E.c.post_id >= fresh[-1])
            )
        }
        new = [i for i in fresh if i not in held]
        if new:
            conn.execute(E.insert(), [{"actor_id": follower_id, "post_id": i} for i in new])
            _grew(conn, [follower_id], len(new))


def follow_ended(conn: sa.Connection, follower_id: int, target_id: int) -> None:
    """``follower_id`` no longer follows ``target_id``: the posts only that follow brought go
    (a unit of work; run before or after the follow row goes, the result is the same)."""
    community = _communities_of(conn, [target_id]).get(target_id)
    brought = P.c.author_id == target_id
    if community is not None:
        brought = sa.or_(brought, P.c.community_id == community)
    gone = (
        sa.select(P.c.id)
        .where(
            P.c.id == E.c.post_id,
            brought,
            home_sources(follower_id, without=target_id).is_not(sa.true()),
        )
        .exists()
    )
    conn.execute(E.delete().where(E.c.actor_id == follower_id, gone))


def post_removed(conn: sa.Connection, post_id: int) -> None:
    """A post was deleted: it leaves every feed (a unit of work)."""
    conn.execute(E.delete().where(E.c.post_id == post_id))


# --- the listeners -------------------------------------------------------------------------------


async def _on_post(conn: AsyncConnection, event: Event) -> None:
    await conn.run_sync(post_added, event.data["post_id"])


async def _on_follow(conn: AsyncConnection, event: Event) -> None:
    if event.kind == kinds.FOLLOW_CREATED and event.data.get("state") != "accepted":
        return
    await conn.run_sync(follow_accepted, event.data["follower_id"], event.data["target_id"])


async def _on_unfollow(conn: AsyncConnection, event: Event) -> None:
    await conn.run_sync(follow_ended, event.data["follower_id"], event.data["target_id"])


async def _on_delete(conn: AsyncConnection, event: Event) -> None:
    await conn.run_sync(post_removed, event.data["post_id"])


def register(ctx: Context) -> None:
    """Keep home feeds in the transactions of local posts, boosts, follows and deletes."""
    for kind in (kinds.POST_CREATED, kinds.REBLOG_CREATED):
        ctx.events.on(kind, _on_post)
    for kind in (kinds.FOLLOW_CREATED, kinds.FOLLOW_ACCEPTED):
        ctx.events.on(kind, _on_follow)
    for kind in (kinds.FOLLOW_UNDONE, kinds.FOLLOW_REJECTED):
        ctx.events.on(kind, _on_unfollow)
    ctx.events.on(kinds.POST_DELETED, _on_delete)


# --- rebuilding ------------------------------------------------------------------------------------

REBUILD_BATCH = 50  # feeds per write transaction: the write lock is let go between batches


def _accounts(conn: sa.Connection, username: str | None) -> list[int]:
    """The actor ids of local accounts (one, by username), oldest first."""
    q = (
        sa.select(t.users.c.actor_id)
        .join(t.actors, t.actors.c.id == t.users.c.actor_id)
        .order_by(t.users.c.actor_id)
    )
    if username is not None:
        q = q.where(t.actors.c.username == username, t.actors.c.domain.is_(None))
    return [r[0] for r in conn.execute(q)]


def _rebuild_batch(conn: sa.Connection, actor_ids: list[int]) -> int:
    return sum(rebuild(conn, a) for a in actor_ids)


async def rebuild_all(
    db: Database,
    *,
    username: str | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> tuple[int, int]:
    """Rebuild the feed of every local account (or of ``username``) from the posts, a batch of
    accounts per transaction; ``progress(done, total, rows)`` after each batch. Returns
    (feeds, rows). NotFound when ``username`` names no local account."""
    actor_ids = await db.read(_accounts, username)
    if username is not None and not actor_ids:
        raise NotFound(Message("no local account @%(username)s", username=username))
    rows = 0
    for start in range(0, len(actor_ids), REBUILD_BATCH):
        batch = actor_ids[start : start + REBUILD_BATCH]
        rows += await db.write(_rebuild_batch, batch)
        if progress is not None:
            progress(start + len(batch), len(actor_ids), rows)
    return len(actor_ids), rows
