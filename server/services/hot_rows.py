"""Caches of the rows read on nearly every request: signed-in members, bearer tokens,
communities by handle and their purpose in force, local actors by username, actors as posts
show them.

Each is a ``CachedMap`` of ``server/storage/caches.py`` on the database's ``WriteWatch``: a write
to one of its tables in this process empties it at once and again at commit; a commit in another
process empties it when the event bus brings the tables' names (PostgreSQL,
``server/stream_bus.py``); without a bus (several processes on one SQLite file, the command
line) an entry lives ``TTL`` seconds at most. Only rows found are cached; whatever decides
access (a token's expiry and revocation, a member's state or suspension) is checked on every
use, so a cached row is never trusted for longer than the row itself says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server.storage.caches import CachedMap, watch_of

V = TypeVar("V")

TTL = 30.0  # seconds: the bound on what no bus reports (another process on SQLite, the CLI)
CHANGED = ("update", "delete")  # a new row changes no cached one (misses are not cached)


def _map(engine: Engine, name: str, tables: tuple[str, ...], maxsize: int) -> CachedMap[Any]:
    return watch_of(engine).cache(
        name, lambda: CachedMap[Any](TTL, maxsize), tables=tables, kinds=CHANGED
    )


def users(engine: Engine) -> CachedMap[sa.Row]:
    """Members (``accounts.get_user`` rows) by user id."""
    return _map(engine, "users", ("users", "actors"), 4096)


def tokens(engine: Engine) -> CachedMap[sa.Row]:
    """Bearer tokens with their member's state, by token hash."""
    # oauth_apps: deleting an app deletes its tokens by the foreign key, which no statement shows
    return _map(engine, "tokens", ("oauth_tokens", "oauth_apps", "users", "actors"), 4096)


def communities(engine: Engine) -> CachedMap[Any]:
    """Local communities by handle."""
    return _map(engine, "communities", ("communities", "actors"), 1024)


def purposes(engine: Engine) -> CachedMap[Any]:
    """The purpose version in force (``purpose.current_shown``) by community id; a new version is an
    insert, so inserts count here."""
    return watch_of(engine).cache(
        "purposes",
        lambda: CachedMap[Any](TTL, 1024),
        tables=("purpose_versions",),
        kinds=("insert", *CHANGED),
    )


def local_actors(engine: Engine) -> CachedMap[sa.Row]:
    """Local actors (``actors`` rows of people and communities) by username."""
    return _map(engine, "local_actors", ("actors",), 4096)


def actors(engine: Engine) -> CachedMap[Any]:
    """Actors as posts show them (``ActorView``), by (id, base URL, local domain)."""
    return _map(engine, "actor_views", ("actors",), 8192)


def engine_of(conn: Any) -> Engine:
    """The synchronous engine behind a ``Connection``, an ``AsyncConnection`` or a unit's
    ``InlineConnection``."""
    found = getattr(conn, "sync_engine", None) or getattr(conn, "engine", None)
    if isinstance(found, Engine):
        return found
    engine: Engine = conn.sync_connection.engine
    return engine


async def through(
    cache: CachedMap[V], key: Hashable, load: Callable[[], Awaitable[Any]]
) -> V | None:
    """The cached value of ``key``, or ``await load()`` (remembered unless a write came between)."""
    found = cache.get(key)
    if found is not None:
        return found
    generation = cache.generation
    value: V | None = await load()
    if value is not None:
        cache.put(key, value, generation)
    return value


# What a status shows of its post that a write can change, by table and kind of statement. A new
# row changes no cached status, except through an edit, which also updates the post (edited_at):
# mentions, tags, results' roles and contributors, a poll are written with their post. An
# UPDATE of the counters alone (favourites, boosts, replies) leaves the cache alone: counts are
# read on every request.
STATUS_TABLES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("posts", "actors", "communities", "roles", "media"), CHANGED),
    (("post_mentions", "post_tags", "result_roles", "result_contributors", "polls"), ("delete",)),
)
COUNTERS = ("favourites_count", "reblogs_count", "replies_count")


def statuses(engine: Engine) -> CachedMap[Any]:
    """The viewer-independent part of rendered statuses (``api.status_cache``), by (post id, base
    URL)."""
    (tables, kinds), *more = STATUS_TABLES
    return watch_of(engine).cache(
        "statuses", lambda: CachedMap[Any](TTL, 4096), tables, kinds, unseen=COUNTERS, more=more
    )


def accounts(engine: Engine) -> CachedMap[Any]:
    """Rendered accounts without their counts (``api.status_cache``), by (actor id, base URL)."""
    return watch_of(engine).cache(
        "account_fields",
        lambda: CachedMap[Any](TTL, 4096),
        tables=("actors", "competencies"),
        kinds=("insert", *CHANGED),
    )


def post_views(engine: Engine) -> CachedMap[Any]:
    """Posts as pages show them before any viewer (``post_cache``), by (post id, base URL, local
    domain): the same tables as ``statuses``."""
    (tables, kinds), *more = STATUS_TABLES
    return watch_of(engine).cache(
        "post_views", lambda: CachedMap[Any](TTL, 4096), tables, kinds, unseen=COUNTERS, more=more
    )


def cards(engine: Engine) -> CachedMap[Any]:
    """Post cards' HTML down to their footer (``web.card_cache``), by (language, post id,
    edited_at, the relative time shown, poll counts): the same tables as ``statuses``."""
    (tables, kinds), *more = STATUS_TABLES
    return watch_of(engine).cache(
        "cards", lambda: CachedMap[Any](TTL, 4096), tables, kinds, unseen=COUNTERS, more=more
    )


def watch_rendered(engine: Engine) -> None:
    """Make the caches of rendered posts now, so that this process's watch sees (and its bus
    tells the other processes of) every write that changes them, even before it renders a post
    itself (a process that only writes, say)."""
    for make in (statuses, accounts, post_views, cards):
        make(engine)
