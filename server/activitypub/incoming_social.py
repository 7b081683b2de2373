"""Inbox handlers for relationships: Follow, Accept, Reject, Undo, Block, Like, Flag, Add/Remove.

Each handler resolves what it must fetch first, then changes the domain in one write transaction.
Anything understood but not applicable raises ``Ignore`` with its reason.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from federation.errors import Ignore
from server import clock
from server.activitypub.incoming_common import (
    OUTBOX,
    actor_by_uri,
    actor_row,
    ctx_of,
    ensure_remote_community,
    local_community_of,
    the_actor,
)
from server.activitypub.remote_sync import sync_community
from server.activitypub.vocab import first_id, ids, type_of
from server.services import notifications
from server.services.follows import community_managers
from server.services.posts import viewer_for_actor
from server.services.purpose_endorsements import endorse_from_like, withdraw_from_undo
from server.services.reports import notify_moderators
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import can_see_post

log = logging.getLogger(__name__)


async def on_follow(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A remote actor follows a local person or joins a local community."""
    follower_id = await the_actor(app, activity, signer_id)
    ctx = ctx_of(app)
    async with ctx.db.write() as conn:
        target = await actor_by_uri(conn, first_id(activity.get("object")))
        if target is None or target.domain is not None or target.suspended:
            raise Ignore("unknown_target", "not a local actor")
        follower = await actor_row(conn, follower_id)
        blocked = await conn.execute(
            sa.select(1).where(
                t.blocks.c.actor_id == target.id, t.blocks.c.target_id == follower_id
            )
        )
        community = await local_community_of(conn, target.id)
        if blocked.first() or (community is not None and community.openness == "invite"):
            await app[OUTBOX].send_decision(conn, "Reject", follower, target, activity.get("id"))
            return
        if community is not None:
            state = "accepted" if community.openness == "open" else "pending"
        else:
            state = "pending" if target.manually_approves_followers else "accepted"
        existing = (
            await conn.execute(
                sa.select(t.follows).where(
                    t.follows.c.follower_id == follower_id, t.follows.c.target_id == target.id
                )
            )
        ).first()
        if existing is not None:
            state = "accepted" if existing.state == "accepted" else state
            await conn.execute(
                t.follows.update()
                .where(t.follows.c.id == existing.id)
                .values(uri=activity.get("id"), state=state)
            )
        else:
            await conn.execute(
                t.follows.insert().values(
                    follower_id=follower_id,
                    target_id=target.id,
                    state=state,
                    uri=activity.get("id"),
                    created_at=clock.now(),
                )
            )
            if community is not None:
                if state == "pending":
                    for manager in await community_managers(conn, community.id):
                        await notifications.notify(
                            conn,
                            manager,
                            "koers.join_request",
                            from_actor_id=follower_id,
                            community_id=community.id,
                        )
            else:
                kind = "follow" if state == "accepted" else "follow_request"
                await notifications.notify(conn, target.id, kind, from_actor_id=follower_id)
        if state == "accepted":
            await app[OUTBOX].send_decision(conn, "Accept", follower, target, activity.get("id"))


async def _our_follow(conn: Any, activity: dict[str, Any], remote_id: int) -> sa.Row | None:
    """The local→remote follow an Accept/Reject answers (by Follow id, else by the pair)."""
    inner = activity.get("object")
    follow_uri = first_id(inner)
    row = None
    if follow_uri:
        row = (
            await conn.execute(sa.select(t.follows).where(t.follows.c.uri == follow_uri))
        ).first()
    if row is None and isinstance(inner, dict):
        local = await actor_by_uri(conn, first_id(inner.get("actor")))
        if local is not None:
            row = (
                await conn.execute(
                    sa.select(t.follows).where(
                        t.follows.c.follower_id == local.id, t.follows.c.target_id == remote_id
                    )
                )
            ).first()
    if row is None or row.target_id != remote_id:
        return None
    return row


async def on_accept(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Our pending follow of a remote actor (or Group) is accepted."""
    remote_id = await the_actor(app, activity, signer_id)
    community_id: int | None = None
    async with ctx_of(app).db.write() as conn:
        row = await _our_follow(conn, activity, remote_id)
        if row is None:
            raise Ignore("unknown_follow", "no pending follow matches this Accept")
        await conn.execute(
            t.follows.update().where(t.follows.c.id == row.id).values(state="accepted")
        )
        remote = await actor_row(conn, remote_id)
        if remote.kind == "group":
            community_id = await ensure_remote_community(conn, remote)
            if row.state == "pending" and remote.manually_approves_followers:  # a manager said yes
                await notifications.notify(
                    conn,
                    row.follower_id,
                    "koers.join_approved",
                    from_actor_id=remote_id,
                    community_id=community_id,
                )
    if community_id is not None:  # a member joined: catch up with what the community already has
        await sync_community(app, community_id)


async def on_reject(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Our follow of a remote actor is refused (or ended by them)."""
    remote_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        row = await _our_follow(conn, activity, remote_id)
        if row is None:
            raise Ignore("unknown_follow", "no follow matches this Reject")
        await conn.execute(t.follows.delete().where(t.follows.c.id == row.id))


async def on_undo(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Undo of the actor's own Follow, Like, Announce or Block."""
    actor_id = await the_actor(app, activity, signer_id)
    inner = activity.get("object")
    async with ctx_of(app).db.write() as conn:
        inner_uri = first_id(inner)
        kind = type_of(inner)
        if not kind and inner_uri:  # referenced by id only: find what it was
            for table, name in (
                (t.follows, "Follow"),
                (t.favourites, "Like"),
                (t.posts, "Announce"),
            ):
                if (
                    await conn.execute(sa.select(table.c.id).where(table.c.uri == inner_uri))
                ).first():
                    kind = name
                    break
        obj = first_id(inner.get("object")) if isinstance(inner, dict) else None
        target = await actor_by_uri(conn, obj) if obj else None
        if kind == "Follow":
            cond = (
                t.follows.c.uri == inner_uri
                if target is None
                else t.follows.c.target_id == target.id
            )
            res = await conn.execute(
                t.follows.delete().where(t.follows.c.follower_id == actor_id, cond)
            )
        elif kind == "Like" and await withdraw_from_undo(conn, actor_id, obj, inner_uri):
            return  # the Undo of a purpose endorsement
        elif kind == "Like":
            post = (
                (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == obj))).first()
                if obj
                else None
            )
            cond = (
                t.favourites.c.uri == inner_uri
                if post is None
                else t.favourites.c.post_id == post.id
            )
            fav = (
                await conn.execute(
                    sa.select(t.favourites).where(t.favourites.c.actor_id == actor_id, cond)
                )
            ).first()
            res = await conn.execute(
                t.favourites.delete().where(t.favourites.c.id == (fav.id if fav else -1))
            )
            if fav is not None:
                await conn.execute(
                    t.posts.update()
                    .where(t.posts.c.id == fav.post_id, t.posts.c.favourites_count > 0)
                    .values(favourites_count=t.posts.c.favourites_count - 1)
                )
        elif kind == "Announce":
            from server.activitypub.ingest import wipe_post

            boost = (
                await conn.execute(
                    sa.select(t.posts).where(
                        t.posts.c.uri == inner_uri, t.posts.c.author_id == actor_id
                    )
                )
            ).first()
            if boost is None:
                raise Ignore("unknown_announce", "no boost with that id")
            await wipe_post(conn, boost)
            return
        elif kind == "Block":
            res = await conn.execute(
                t.blocks.delete().where(
                    t.blocks.c.actor_id == actor_id,
                    t.blocks.c.target_id == (target.id if target else -1),
                )
            )
        else:
            raise Ignore("unsupported_undo", f"Undo of {kind or 'unknown'} is not handled")
        if not res.rowcount:
            raise Ignore("nothing_to_undo", f"no {kind} to undo")


async def on_block(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A remote actor blocks a local one: follows both ways end; their posts stay hidden from them."""
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        target = await actor_by_uri(conn, first_id(activity.get("object")))
        if target is None or target.domain is not None:
            raise Ignore("unknown_target", "Block of someone not local (a community ban elsewhere)")
        exists = await conn.execute(
            sa.select(t.blocks.c.id).where(
                t.blocks.c.actor_id == actor_id, t.blocks.c.target_id == target.id
            )
        )
        if not exists.first():
            await conn.execute(
                t.blocks.insert().values(
                    actor_id=actor_id,
                    target_id=target.id,
                    uri=activity.get("id"),
                    created_at=clock.now(),
                )
            )
        await conn.execute(
            t.follows.delete().where(
                sa.or_(
                    sa.and_(
                        t.follows.c.follower_id == actor_id, t.follows.c.target_id == target.id
                    ),
                    sa.and_(
                        t.follows.c.follower_id == target.id, t.follows.c.target_id == actor_id
                    ),
                )
            )
        )


async def on_like(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A favourite of a local post (+ notification)."""
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        if await endorse_from_like(
            conn, actor_id, first_id(activity.get("object")) or "", activity.get("id")
        ):
            return  # a Like of a purpose version: an endorsement of the social contract
        post = (
            await conn.execute(
                sa.select(t.posts).where(t.posts.c.uri == first_id(activity.get("object")))
            )
        ).first()
        if post is None or post.deleted_at is not None:
            raise Ignore("unknown_object", "Like of a post we do not have")
        if not await can_see_post(conn, await viewer_for_actor(conn, actor_id), post.id):
            raise Ignore("not_visible", "the actor may not see that post")
        exists = await conn.execute(
            sa.select(t.favourites.c.id).where(
                t.favourites.c.actor_id == actor_id, t.favourites.c.post_id == post.id
            )
        )
        if exists.first():
            return
        await conn.execute(
            t.favourites.insert().values(
                actor_id=actor_id, post_id=post.id, uri=activity.get("id"), created_at=clock.now()
            )
        )
        await conn.execute(
            t.posts.update()
            .where(t.posts.c.id == post.id)
            .values(favourites_count=t.posts.c.favourites_count + 1)
        )
        await notifications.notify(
            conn, post.author_id, "favourite", from_actor_id=actor_id, post_id=post.id
        )


async def on_flag(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A report: a ``reports`` row, and a ``koers.report`` notification for managers and admins."""
    reporter_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        named = ids(activity.get("object"))
        actors = (
            list(await conn.execute(sa.select(t.actors).where(t.actors.c.uri.in_(named))))
            if named
            else []
        )
        posts = (
            list(await conn.execute(sa.select(t.posts).where(t.posts.c.uri.in_(named))))
            if named
            else []
        )
        if not actors and not posts:
            raise Ignore("unknown_object", "the report names nothing we know")
        target = next((a for a in actors if a.kind != "group"), None)
        target_id = target.id if target else (posts[0].author_id if posts else None)
        community_ids = {p.community_id for p in posts if p.community_id}
        for group in (a for a in actors if a.kind == "group"):
            community = await local_community_of(conn, group.id)
            if community is not None:
                community_ids.add(community.id)
        community_id = next(iter(community_ids), None)
        content = activity.get("content")
        res = await conn.execute(
            t.reports.insert().values(
                reporter_id=reporter_id,
                target_id=target_id,
                community_id=community_id,
                post_ids=[p.id for p in posts],
                comment=(content if isinstance(content, str) else "")[:5000],
                uri=activity.get("id"),
                created_at=clock.now(),
            )
        )
        report_id = inserted_id(res)
        await notify_moderators(
            conn, report_id, reporter_id, {community_id} if community_id else set()
        )
