"""Posts of other servers, kept as rows: stored once, edited with history, wiped on delete.

The ActivityPub side (``activitypub/core/ingest.py``) reads the remote document, distrusts and
bounds it and hands over plain values (``RemotePost``, ``RemoteContent``); the rules of keeping
them live here: a reply counts on its parent and joins its community, mentions only name actors we
know, a result links only the roles and roadmap items we hold copies of, an edit keeps the
previous version, a delete leaves a tombstone row and takes back what the post counted.
Runs inside the caller's write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.errors import Forbidden
from server.services import home_feed
from server.services.actors import ids_of_uris
from server.services.posts import is_member, tombstone
from server.storage import schema as t
from server.storage.rows import inserted_id


@dataclass(frozen=True, slots=True)
class RemoteContent:
    """What a remote post says, as created or edited: the post's columns (``kind``, ``title``,
    ``content_html``, ``spoiler_text``, ``sensitive``, ``language``) and what hangs off it."""

    values: dict[str, Any]
    mention_uris: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # One dict per attachment: the ``media`` columns but the owner, the post and the time.
    media: tuple[dict[str, Any], ...] = ()
    # The ``polls`` columns, or None for a post without a poll.
    poll: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RemotePost:
    """A remote post to store: its content and where it stands."""

    uri: str
    url: str
    audience: str
    content: RemoteContent
    created_at: datetime
    community_id: int | None = None
    in_reply_to_uri: str | None = None
    edited_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    contributor_uris: tuple[str, ...] = ()
    role_uris: tuple[str, ...] = ()
    roadmap_item_uri: str | None = None


async def post_by_uri(conn: AsyncConnection, uri: str | None) -> sa.Row | None:
    """The post (ours or remote) whose ActivityPub id is ``uri``."""
    if not uri:
        return None
    return (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == uri))).first()


async def post_row(conn: AsyncConnection, post_id: int) -> sa.Row:
    """The post ``post_id`` (it must exist)."""
    return (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()


async def post_id_by_url(conn: AsyncConnection, url: str) -> int | None:
    """The undeleted post whose id or page is ``url`` (the first, should several share a page)."""
    found = (
        await conn.execute(
            sa.select(t.posts.c.id)
            .where(
                sa.or_(t.posts.c.uri == url, t.posts.c.url == url), t.posts.c.deleted_at.is_(None)
            )
            .limit(1)
        )
    ).scalar()
    return None if found is None else int(found)


async def communities_named(conn: AsyncConnection, uris: Iterable[str]) -> dict[str, int]:
    """The communities (local or remote) whose Group is among ``uris``: Group uri → community id."""
    named = set(uris)
    if not named:
        return {}
    rows = await conn.execute(
        sa.select(t.actors.c.uri, t.communities.c.id)
        .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
        .where(t.actors.c.uri.in_(named))
    )
    return {uri: cid for uri, cid in rows}


COUNT_REPLY = (
    t.posts.update()
    .where(t.posts.c.id == sa.bindparam("parent", type_=t.Id))
    .values(replies_count=t.posts.c.replies_count + 1)
)


def post_values(author_id: int, post: RemotePost, parent: Any) -> dict[str, Any]:
    """The ``posts`` columns of a remote post (a reply belongs to its parent's community when
    its addressing names none)."""
    community_id = post.community_id
    if community_id is None and parent is not None:
        community_id = parent.community_id
    return {
        "uri": post.uri,
        "url": post.url,
        "author_id": author_id,
        "local": False,
        "audience": post.audience,
        "community_id": community_id,
        "in_reply_to_id": parent.id if parent else None,
        "in_reply_to_uri": post.in_reply_to_uri,
        "thread_root_id": (parent.thread_root_id or parent.id) if parent else None,
        "extra": post.extra,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
        **post.content.values,
    }


async def store_post(conn: AsyncConnection, author_id: int, post: RemotePost) -> int:
    """Keep the remote ``post`` by ``author_id`` (not yet stored); returns its id.

    A reply counts on its parent (when we hold it) and belongs to the parent's community when
    its addressing names none.
    """
    parent = await post_by_uri(conn, post.in_reply_to_uri)
    res = await conn.execute(t.posts.insert().values(**post_values(author_id, post, parent)))
    post_id = inserted_id(res)
    if parent is not None:
        await conn.execute(COUNT_REPLY, {"parent": parent.id})
    await _write_content(conn, post_id, author_id, post.content)
    if post.content.values.get("kind") == "result":
        await _write_contributors(conn, post_id, post.contributor_uris)
        await _write_result_links(conn, post_id, post.role_uris, post.roadmap_item_uri)
    await conn.run_sync(home_feed.post_added, post_id)
    return post_id


async def _write_content(
    conn: AsyncConnection, post_id: int, owner_id: int, content: RemoteContent
) -> None:
    await _write_tags(conn, post_id, content.mention_uris, content.tags)
    await _write_media(conn, post_id, owner_id, content.media)
    await _write_poll(conn, post_id, content.poll)


async def _write_result_links(
    conn: AsyncConnection, post_id: int, role_uris: Iterable[str], item_uri: str | None
) -> None:
    """A remote result's roles and roadmap item that we hold copies of (nothing fetched)."""
    uris = set(role_uris)
    if uris:
        known = [
            r[0] for r in await conn.execute(sa.select(t.roles.c.id).where(t.roles.c.uri.in_(uris)))
        ]
        if known:
            await conn.execute(
                t.result_roles.insert(), [{"post_id": post_id, "role_id": r} for r in known]
            )
    if item_uri:
        item = (
            await conn.execute(
                sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.uri == item_uri)
            )
        ).scalar()
        if item is not None:
            await conn.execute(
                t.posts.update().where(t.posts.c.id == post_id).values(roadmap_item_id=item)
            )


async def _write_contributors(conn: AsyncConnection, post_id: int, uris: Iterable[str]) -> None:
    """A remote result's contributors that we know as actors (nothing is fetched here)."""
    wanted = set(uris)
    if not wanted:
        return
    known = [
        r[0] for r in await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri.in_(wanted)))
    ]
    if known:
        await conn.execute(
            t.result_contributors.insert(), [{"post_id": post_id, "actor_id": a} for a in known]
        )


async def _write_tags(
    conn: AsyncConnection, post_id: int, mention_uris: Iterable[str], tags: Iterable[str]
) -> None:
    """The actors we know among ``mention_uris`` are mentioned (added to those already); the
    hashtags are replaced by ``tags``."""
    hrefs = list(mention_uris)
    if hrefs:
        known = await ids_of_uris(conn, hrefs)
        have = {
            r[0]
            for r in await conn.execute(
                sa.select(t.post_mentions.c.actor_id).where(t.post_mentions.c.post_id == post_id)
            )
        }
        new = [a for a in known if a not in have]
        if new:
            await conn.execute(
                t.post_mentions.insert(), [{"post_id": post_id, "actor_id": a} for a in new]
            )
    await conn.execute(t.post_tags.delete().where(t.post_tags.c.post_id == post_id))
    names = list(tags)
    if names:
        await conn.execute(
            t.post_tags.insert(), [{"post_id": post_id, "tag": tag} for tag in names]
        )


async def _write_media(
    conn: AsyncConnection, post_id: int, owner_id: int, media: Iterable[dict[str, Any]]
) -> None:
    await conn.execute(t.media.delete().where(t.media.c.post_id == post_id))
    rows = [
        {"owner_id": owner_id, "post_id": post_id, **m, "created_at": clock.now()} for m in media
    ]
    if rows:
        await conn.execute(t.media.insert(), rows)


async def _write_poll(conn: AsyncConnection, post_id: int, values: dict[str, Any] | None) -> None:
    if values is None:
        return
    existing = (
        await conn.execute(sa.select(t.polls.c.id).where(t.polls.c.post_id == post_id))
    ).scalar()
    if existing is None:
        await conn.execute(t.polls.insert().values(post_id=post_id, **values))
    else:
        await conn.execute(t.polls.update().where(t.polls.c.id == existing).values(**values))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a newly stored remote post stands with its community: the post and community rows
    (as stored), whether the community is ours, and whether the author is an outsider to it."""

    post: sa.Row
    community: sa.Row | None
    ours: bool
    outsider: bool


async def place_in_community(conn: AsyncConnection, post_id: int, author_id: int) -> Placement:
    """The community rule for a remote post just stored in one of ours: a member's post belongs
    to it; an outsider's only when the community is open and takes outside ideas. Otherwise a
    ``community`` post is refused (``Forbidden``, nothing of it should be kept) and a public one
    that merely mentions the community stays, out of it."""
    post = await post_row(conn, post_id)
    community = None
    if post.community_id is not None:
        community = (
            await conn.execute(
                sa.select(t.communities).where(t.communities.c.id == post.community_id)
            )
        ).one()
    ours = community is not None and community.local
    outsider = community is not None and ours and not await is_member(conn, community.id, author_id)
    if (
        outsider
        and community is not None
        and (community.openness != "open" or not community.accept_outside_ideas)
    ):
        if post.audience == "community":
            raise Forbidden("post to a community from a non-member")
        await conn.execute(
            t.posts.update().where(t.posts.c.id == post_id).values(community_id=None)
        )
        ours = outsider = False
    return Placement(post, community, ours, outsider)


async def apply_edit(
    conn: AsyncConnection, post: sa.Row, content: RemoteContent, edited_at: datetime
) -> None:
    """A remote edit of ``post``: the first edit keeps the original as the first version in
    ``post_edits``, every edit adds the new one (its ``kind`` stays as it was)."""
    has_history = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(t.post_edits)
            .where(t.post_edits.c.post_id == post.id)
        )
    ).scalar_one()
    if not has_history:
        await conn.execute(
            t.post_edits.insert().values(
                post_id=post.id,
                content_html=post.content_html,
                spoiler_text=post.spoiler_text,
                sensitive=post.sensitive,
                created_at=post.created_at,
            )
        )
    values = {k: v for k, v in content.values.items() if k != "kind"}
    await conn.execute(
        t.posts.update().where(t.posts.c.id == post.id).values(edited_at=edited_at, **values)
    )
    await conn.execute(
        t.post_edits.insert().values(
            post_id=post.id,
            content_html=values["content_html"],
            spoiler_text=values["spoiler_text"],
            sensitive=values["sensitive"],
            created_at=edited_at,
        )
    )
    await _write_content(conn, post.id, post.author_id, content)


async def wipe_post(conn: AsyncConnection, post: sa.Row) -> None:
    """A remote delete: the content and everything hanging off it goes; a tombstone row stays
    (the rule of a local delete, ``posts.tombstone``; a result's links stay)."""
    await tombstone(conn, post, keep_result_links=True)


async def receive_actor_delete(conn: AsyncConnection, actor_id: int) -> None:
    """A remote actor deleted itself: its posts are wiped, its follows both ways go, and it stays
    as a suspended row (so what names it still resolves, and nothing of it shows)."""
    for post in await conn.execute(
        sa.select(t.posts).where(t.posts.c.author_id == actor_id, t.posts.c.deleted_at.is_(None))
    ):
        await wipe_post(conn, post)
    await conn.execute(
        t.follows.delete().where(
            sa.or_(t.follows.c.follower_id == actor_id, t.follows.c.target_id == actor_id)
        )
    )
    await conn.execute(t.actors.update().where(t.actors.c.id == actor_id).values(suspended=True))


async def receive_unboost(conn: AsyncConnection, booster_id: int, uri: str | None) -> bool:
    """A remote ``Undo`` of the boost ``uri`` by ``booster_id``: the boost is wiped as a remote
    delete is. False when that actor has no boost with that id."""
    boost = (
        await conn.execute(
            sa.select(t.posts).where(t.posts.c.uri == uri, t.posts.c.author_id == booster_id)
        )
    ).first()
    if boost is None:
        return False
    await wipe_post(conn, boost)
    return True
