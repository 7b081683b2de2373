"""Many new remote posts kept at once: ``remote_posts.store_post`` in set-wise statements.

The inbox worker applies a batch of plain ``Create`` activities (``activitypub/posts/
inbound_batch.py``) with one insert of all their posts, one of their mentions, one of their tags,
one of their attachments, one count on their parents and one pass over their readers' home
feeds, instead of about twenty statements per post. The rules are those of ``store_post``; this
path only takes the posts that need none of its rarer branches (the caller sends the others one
by one): no community (neither named nor inherited from the parent), no poll, not a result.
Runs inside the caller's write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.services import home_feed
from server.services.remote_posts import COUNT_REPLY, RemotePost, post_values
from server.storage import schema as t

_IDS: sa.BindParameter[list[str]] = sa.bindparam("uris", expanding=True)
_ACTORS_BY_URI = sa.select(t.actors.c.uri, t.actors.c.id).where(t.actors.c.uri.in_(_IDS))
# What a batch needs to know of the actors and posts it names (``actors_by_uri``, ``posts_by_uri``).
_ACTORS = sa.select(
    t.actors.c.id,
    t.actors.c.uri,
    t.actors.c.domain,
    t.actors.c.fetched_at,
    t.actors.c.followers_url,
).where(t.actors.c.uri.in_(_IDS))
_POSTS = sa.select(
    t.posts.c.id,
    t.posts.c.uri,
    t.posts.c.author_id,
    t.posts.c.community_id,
    t.posts.c.thread_root_id,
).where(t.posts.c.uri.in_(_IDS))
_INSERT_POSTS = t.posts.insert().returning(t.posts.c.id, sort_by_parameter_order=True)
_INSERT_MENTIONS = t.post_mentions.insert()
_INSERT_TAGS = t.post_tags.insert()
_INSERT_MEDIA = t.media.insert()


@dataclass(frozen=True, slots=True)
class NewPost:
    """A remote post to store in a batch: its author, what it says, and its parent row (held)."""

    author_id: int
    post: RemotePost
    parent: Any = None


@dataclass(frozen=True, slots=True)
class Stored:
    """A post the batch stored: its id and the actors it mentions (as ``post_mentions`` holds
    them, in the order of their ids)."""

    post_id: int
    mentioned: tuple[int, ...]


async def _by_uri(conn: AsyncConnection, stmt: sa.Select[Any], uris: set[str]) -> dict[str, Any]:
    if not uris:
        return {}
    return {r.uri: r for r in await conn.execute(stmt, {"uris": sorted(uris)})}


async def actors_by_uri(conn: AsyncConnection, uris: set[str]) -> dict[str, Any]:
    """The actors we know among ``uris`` (id, uri, domain, fetched_at, followers_url) by uri."""
    return await _by_uri(conn, _ACTORS, uris)


async def posts_by_uri(conn: AsyncConnection, uris: set[str]) -> dict[str, Any]:
    """The posts we hold among ``uris`` (id, uri, author_id, community_id, thread_root_id)."""
    return await _by_uri(conn, _POSTS, uris)


async def actor_ids_by_uri(conn: AsyncConnection, uris: set[str]) -> dict[str, int]:
    """The actors we know among ``uris``: uri → id (one statement)."""
    return {uri: int(row.id) for uri, row in (await _by_uri(conn, _ACTORS_BY_URI, uris)).items()}


async def store_posts(conn: AsyncConnection, batch: list[NewPost]) -> list[Stored]:
    """Keep the remote posts of ``batch`` (none stored yet, none in a community, no polls, no
    results); what was stored, in the batch's order."""
    if not batch:
        return []
    result = await conn.execute(
        _INSERT_POSTS, [post_values(n.author_id, n.post, n.parent) for n in batch]
    )
    post_ids = [int(r[0]) for r in result]
    replies = [{"parent": n.parent.id} for n in batch if n.parent is not None]
    if replies:
        await conn.execute(COUNT_REPLY, replies)
    known = await actor_ids_by_uri(conn, {u for n in batch for u in n.post.content.mention_uris})
    stored: list[Stored] = []
    mentions: list[dict[str, int]] = []
    tags: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    now = clock.now()
    for post_id, n in zip(post_ids, batch, strict=True):
        content = n.post.content
        named = tuple(sorted({known[u] for u in content.mention_uris if u in known}))
        mentions += [{"post_id": post_id, "actor_id": a} for a in named]
        tags += [{"post_id": post_id, "tag": tag} for tag in content.tags]
        media += [
            {"owner_id": n.author_id, "post_id": post_id, **m, "created_at": now}
            for m in content.media
        ]
        stored.append(Stored(post_id, named))
    for statement, rows in (
        (_INSERT_MENTIONS, mentions),
        (_INSERT_TAGS, tags),
        (_INSERT_MEDIA, media),
    ):
        if rows:  # every row of one table has the same columns: one ``executemany``
            await conn.execute(statement, rows)
    await conn.run_sync(
        home_feed.posts_added,
        [(s.post_id, n.author_id) for s, n in zip(stored, batch, strict=True)],
    )
    return stored
