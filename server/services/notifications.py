"""Notifications for local members. Written inside the transaction of what caused them.

Only local actors get notifications; nobody is notified of their own actions, by someone they
block or mute, by someone on a server they blocked, or about a conversation they muted. Who may
read a notification's post is checked again when it is listed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.services import mail_notify, push
from server.services.written_post import written
from server.storage import schema as t
from server.storage.rows import inserted_id

TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "koers.role_assigned",
    "koers.role_requested",
    "koers.result",
    "koers.purpose_changed",
    "koers.join_request",
    "koers.report",
    "koers.roadmap_status",
    "koers.member_added",
    "koers.endorse_requested",
    "koers.proposal",
    "koers.decision_opened",
    "koers.decision_closed",
    "koers.idea",
    "koers.idea_update",
    "koers.join_approved",
    "koers.event_request",
    "koers.event_decision",
    "koers.role_term_ended",
)


async def _domain_blocked(conn: AsyncConnection, actor_id: int, from_actor_id: int) -> bool:
    """Has ``actor_id`` blocked the server ``from_actor_id`` is on (their own domain block)?"""
    udb = t.user_domain_blocks
    row = await conn.execute(
        sa.select(1)
        .select_from(udb.join(t.actors, t.actors.c.domain == udb.c.domain))
        .where(udb.c.actor_id == actor_id, t.actors.c.id == from_actor_id)
    )
    return row.first() is not None


async def _thread_muted(conn: AsyncConnection, actor_id: int, post_id: int) -> bool:
    """Has ``actor_id`` muted the conversation ``post_id`` belongs to?"""
    root = (
        sa.select(sa.func.coalesce(t.posts.c.thread_root_id, t.posts.c.id))
        .where(t.posts.c.id == post_id)
        .scalar_subquery()
    )
    row = await conn.execute(
        sa.select(1).where(
            t.conversation_mutes.c.actor_id == actor_id,
            t.conversation_mutes.c.thread_root_id == root,
        )
    )
    return row.first() is not None


async def _is_local_user(conn: AsyncConnection, actor_id: int) -> bool:
    row = await conn.execute(sa.select(t.users.c.id).where(t.users.c.actor_id == actor_id))
    return row.first() is not None


async def notify(
    conn: AsyncConnection,
    actor_id: int,
    type_: str,
    *,
    from_actor_id: int | None = None,
    post_id: int | None = None,
    community_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Add a notification for ``actor_id`` when it is a local member and not the actor itself."""
    if from_actor_id is not None and from_actor_id == actor_id:
        return
    if not await _is_local_user(conn, actor_id):
        return
    if from_actor_id is not None:
        silenced = await conn.execute(
            sa.select(1).where(
                sa.or_(
                    sa.exists(
                        sa.select(1).where(
                            t.blocks.c.actor_id == actor_id, t.blocks.c.target_id == from_actor_id
                        )
                    ),
                    sa.exists(
                        sa.select(1).where(
                            t.mutes.c.actor_id == actor_id,
                            t.mutes.c.target_id == from_actor_id,
                            t.mutes.c.notifications.is_(True),
                        )
                    ),
                )
            )
        )
        if silenced.first() or await _domain_blocked(conn, actor_id, from_actor_id):
            return
    if post_id is not None and await _thread_muted(conn, actor_id, post_id):
        return
    res = await conn.execute(
        t.notifications.insert().values(
            actor_id=actor_id,
            type=type_,
            from_actor_id=from_actor_id,
            post_id=post_id,
            community_id=community_id,
            extra=extra or {},
            created_at=clock.now(),
        )
    )
    await push.enqueue(conn, inserted_id(res), actor_id, type_, from_actor_id)
    await mail_notify.enqueue(conn, inserted_id(res), actor_id, type_, post_id)


_TOLD = ("public", "unlisted", "followers", "members", "partners")  # followers told of a new post


async def for_new_post(conn: AsyncConnection, post_id: int, *, post: sa.Row | None = None) -> None:
    """Mentions, replies to one's post, followers who asked to be told, results for community members.

    ``post``: the post's row when the caller has it (the write unit that made it)."""
    if post is None:
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()
    assert post is not None
    notified: set[int] = set()
    known = written(conn, post_id)
    if known is not None and known.mentioned is not None:
        mentioned = [m.id for m in known.mentioned]
    else:
        mentioned = [
            r[0]
            for r in await conn.execute(
                sa.select(t.post_mentions.c.actor_id).where(t.post_mentions.c.post_id == post_id)
            )
        ]
    for actor_id in mentioned:
        await notify(conn, actor_id, "mention", from_actor_id=post.author_id, post_id=post_id)
        notified.add(actor_id)
    if post.in_reply_to_id:
        parent_author = (
            await conn.execute(
                sa.select(t.posts.c.author_id).where(t.posts.c.id == post.in_reply_to_id)
            )
        ).scalar()
        if (
            parent_author is not None
            and parent_author not in notified
            and post.audience != "direct"
        ):
            await notify(
                conn, parent_author, "mention", from_actor_id=post.author_id, post_id=post_id
            )
            notified.add(parent_author)
    if post.audience in _TOLD:
        for (follower_id,) in await conn.execute(
            sa.select(t.follows.c.follower_id).where(
                t.follows.c.target_id == post.author_id,
                t.follows.c.state == "accepted",
                t.follows.c.notify.is_(True),
            )
        ):
            if follower_id not in notified:
                await notify(
                    conn, follower_id, "status", from_actor_id=post.author_id, post_id=post_id
                )
                notified.add(follower_id)
    if post.kind == "result" and post.community_id:
        members = await conn.execute(
            sa.select(t.follows.c.follower_id)
            .join(t.communities, t.communities.c.actor_id == t.follows.c.target_id)
            .where(t.communities.c.id == post.community_id, t.follows.c.state == "accepted")
        )
        for (member_id,) in members:
            if member_id not in notified and (post.audience != "direct"):
                await notify(
                    conn,
                    member_id,
                    "koers.result",
                    from_actor_id=post.author_id,
                    post_id=post_id,
                    community_id=post.community_id,
                )
        for (contributor,) in await conn.execute(
            sa.select(t.result_contributors.c.actor_id).where(
                t.result_contributors.c.post_id == post_id
            )
        ):
            if contributor not in notified:
                await notify(
                    conn, contributor, "mention", from_actor_id=post.author_id, post_id=post_id
                )


_NOTIFY_FOLLOWERS = sa.select(t.follows.c.target_id, t.follows.c.follower_id).where(
    t.follows.c.target_id.in_(sa.bindparam("ids", expanding=True)),
    t.follows.c.state == "accepted",
    t.follows.c.notify.is_(True),
)
_LOCAL_USERS = sa.select(t.users.c.actor_id).where(
    t.users.c.actor_id.in_(sa.bindparam("ids", expanding=True))
)


async def for_new_posts(
    conn: AsyncConnection, posts: list[tuple[int, int, str, tuple[int, ...], int | None]]
) -> None:
    """``for_new_post`` for many posts just stored outside communities (not results), each as
    (post id, author id, audience, mentioned actor ids in id order, parent's author or None):
    two statements for the batch, then ``notify`` only for the local members among them."""
    if not posts:
        return
    authors = sorted({author for _, author, audience, _, _ in posts if audience in _TOLD})
    followers: dict[int, list[int]] = {}
    if authors:
        for target, follower in await conn.execute(_NOTIFY_FOLLOWERS, {"ids": authors}):
            followers.setdefault(target, []).append(follower)
    wanted = {a for _, _, _, named, parent in posts for a in (*named, parent) if a is not None}
    wanted.update(f for fs in followers.values() for f in fs)
    local = (
        {r[0] for r in await conn.execute(_LOCAL_USERS, {"ids": sorted(wanted)})}
        if wanted
        else set()
    )
    for post_id, author, audience, named, parent in posts:
        told: list[tuple[int, str]] = [(a, "mention") for a in named]
        if parent is not None and parent not in named and audience != "direct":
            told.append((parent, "mention"))
        if audience in _TOLD:
            seen = {a for a, _ in told}
            told += [(f, "status") for f in followers.get(author, ()) if f not in seen]
        for actor_id, type_ in told:
            if actor_id in local:
                await notify(conn, actor_id, type_, from_actor_id=author, post_id=post_id)


async def for_edit(conn: AsyncConnection, post_id: int) -> None:
    """Those who boosted a post are told it changed (Mastodon's ``update``)."""
    post = (
        await conn.execute(sa.select(t.posts.c.author_id).where(t.posts.c.id == post_id))
    ).first()
    assert post is not None
    for (booster,) in await conn.execute(
        sa.select(t.posts.c.author_id).where(
            t.posts.c.reblog_of_id == post_id, t.posts.c.deleted_at.is_(None)
        )
    ):
        await notify(conn, booster, "update", from_actor_id=post.author_id, post_id=post_id)
