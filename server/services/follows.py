"""Following people and joining communities (joining a community = following its Group actor).

A follow is ``pending`` until accepted: at once for open accounts and open communities, by the
person (locked accounts) or a community manager (approval communities), or by the remote server.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.services import notifications
from server.storage import schema as t


async def _actor(conn: AsyncConnection, actor_id: int) -> sa.Row:
    row = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).first()
    if row is None or row.suspended:
        raise NotFound("no such account")
    return row


async def _community_of(conn: AsyncConnection, actor_id: int) -> sa.Row | None:
    return (
        await conn.execute(sa.select(t.communities).where(t.communities.c.actor_id == actor_id))
    ).first()


async def community_managers(conn: AsyncConnection, community_id: int) -> list[int]:
    return [
        r[0]
        for r in await conn.execute(
            sa.select(t.community_managers.c.actor_id).where(
                t.community_managers.c.community_id == community_id
            )
        )
    ]


async def follow(
    ctx: Context,
    follower_id: int,
    target_id: int,
    *,
    show_reblogs: bool = True,
    notify: bool = False,
) -> str:
    """Follow an account or join a community; returns the state (``accepted`` or ``pending``)."""
    if follower_id == target_id:
        raise ValidationError("you cannot follow yourself", field="id")
    async with ctx.db.write() as conn:
        target = await _actor(conn, target_id)
        blocked = await conn.execute(
            sa.select(1).where(
                sa.or_(
                    sa.and_(t.blocks.c.actor_id == target_id, t.blocks.c.target_id == follower_id),
                    sa.and_(t.blocks.c.actor_id == follower_id, t.blocks.c.target_id == target_id),
                )
            )
        )
        if blocked.first():
            raise Forbidden("you cannot follow this account")
        existing = (
            await conn.execute(
                sa.select(t.follows).where(
                    t.follows.c.follower_id == follower_id, t.follows.c.target_id == target_id
                )
            )
        ).first()
        if existing is not None:
            await conn.execute(
                t.follows.update()
                .where(t.follows.c.id == existing.id)
                .values(show_reblogs=show_reblogs, notify=notify)
            )
            return existing.state
        community = await _community_of(conn, target_id) if target.kind == "group" else None
        if target.domain is not None:
            state = "pending"  # the remote server answers with Accept or Reject
        elif community is not None:
            if community.openness == "invite":
                raise Forbidden("this community is by invitation only; ask a community manager")
            state = "accepted" if community.openness == "open" else "pending"
        else:
            state = "pending" if target.manually_approves_followers else "accepted"
        res = await conn.execute(
            t.follows.insert().values(
                follower_id=follower_id,
                target_id=target_id,
                state=state,
                show_reblogs=show_reblogs,
                notify=notify,
                created_at=clock.now(),
            )
        )
        follow_id = int(res.inserted_primary_key[0])
        if target.domain is None:
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
                await notifications.notify(conn, target_id, kind, from_actor_id=follower_id)
        event = await ctx.events.emit(
            conn,
            kinds.FOLLOW_CREATED,
            follow_id=follow_id,
            follower_id=follower_id,
            target_id=target_id,
            state=state,
        )
    await ctx.events.committed(event)
    return state


async def unfollow(ctx: Context, follower_id: int, target_id: int) -> None:
    """Stop following (or leave a community, or withdraw a request)."""
    async with ctx.db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.follows).where(
                    t.follows.c.follower_id == follower_id, t.follows.c.target_id == target_id
                )
            )
        ).first()
        if row is None:
            return
        event = await ctx.events.emit(
            conn,
            kinds.FOLLOW_UNDONE,
            follow_id=row.id,
            follower_id=follower_id,
            target_id=target_id,
            uri=row.uri,
        )
        await conn.execute(t.follows.delete().where(t.follows.c.id == row.id))
        community = await _community_of(conn, target_id)
        if community is not None:
            # Leaving a community also gives up its roles and its management.
            role_ids = sa.select(t.roles.c.id).where(t.roles.c.community_id == community.id)
            await conn.execute(
                t.role_holders.delete().where(
                    t.role_holders.c.actor_id == follower_id, t.role_holders.c.role_id.in_(role_ids)
                )
            )
            managers = await community_managers(conn, community.id)
            if follower_id in managers and len(managers) == 1:
                raise Forbidden(
                    "you are the last community manager; add another manager before you leave"
                )
            await conn.execute(
                t.community_managers.delete().where(
                    t.community_managers.c.community_id == community.id,
                    t.community_managers.c.actor_id == follower_id,
                )
            )
    await ctx.events.committed(event)


async def _may_decide(conn: AsyncConnection, decider_id: int, target_id: int) -> None:
    if decider_id == target_id:
        return
    community = await _community_of(conn, target_id)
    if community is not None and decider_id in await community_managers(conn, community.id):
        return
    raise Forbidden("only the account itself or a community manager can decide on this request")


async def accept_follow(ctx: Context, decider_id: int, follower_id: int, target_id: int) -> None:
    """Accept a pending follow of ``target_id`` (a locked account, or a community by a manager)."""
    async with ctx.db.write() as conn:
        await _may_decide(conn, decider_id, target_id)
        row = (
            await conn.execute(
                sa.select(t.follows).where(
                    t.follows.c.follower_id == follower_id,
                    t.follows.c.target_id == target_id,
                    t.follows.c.state == "pending",
                )
            )
        ).first()
        if row is None:
            raise NotFound("no pending request from this account")
        await conn.execute(
            t.follows.update().where(t.follows.c.id == row.id).values(state="accepted")
        )
        await conn.execute(
            t.notifications.delete().where(
                t.notifications.c.actor_id == target_id,
                t.notifications.c.type == "follow_request",
                t.notifications.c.from_actor_id == follower_id,
            )
        )
        community = await _community_of(conn, target_id)
        if community is None:
            await notifications.notify(conn, target_id, "follow", from_actor_id=follower_id)
        else:  # the person whose request to join was approved learns it (if they are ours)
            await notifications.notify(
                conn,
                follower_id,
                "koers.join_approved",
                from_actor_id=decider_id,
                community_id=community.id,
            )
        event = await ctx.events.emit(
            conn,
            kinds.FOLLOW_ACCEPTED,
            follow_id=row.id,
            follower_id=follower_id,
            target_id=target_id,
            uri=row.uri,
        )
    await ctx.events.committed(event)


async def reject_follow(
    ctx: Context, decider_id: int, follower_id: int, target_id: int, *, pending_only: bool = False
) -> None:
    """Refuse a follow request (or, unless ``pending_only``, end an accepted follow)."""
    async with ctx.db.write() as conn:
        await _may_decide(conn, decider_id, target_id)
        which = sa.and_(t.follows.c.follower_id == follower_id, t.follows.c.target_id == target_id)
        if pending_only:
            which = sa.and_(which, t.follows.c.state == "pending")
        row = (await conn.execute(sa.select(t.follows).where(which))).first()
        if row is None:
            raise NotFound(
                "no pending request from this account"
                if pending_only
                else "no request from this account"
            )
        event = await ctx.events.emit(
            conn,
            kinds.FOLLOW_REJECTED,
            follow_id=row.id,
            follower_id=follower_id,
            target_id=target_id,
            uri=row.uri,
        )
        # Deleted only if still as read: an approval that committed meanwhile is not undone.
        deleted = await conn.execute(
            t.follows.delete().where(t.follows.c.id == row.id, t.follows.c.state == row.state)
        )
        if deleted.rowcount != 1:
            raise NotFound("the request was decided meanwhile")
        await conn.execute(
            t.notifications.delete().where(
                t.notifications.c.actor_id == target_id,
                t.notifications.c.type.in_(["follow_request", "koers.join_request"]),
                t.notifications.c.from_actor_id == follower_id,
            )
        )
    await ctx.events.committed(event)


async def relationship(conn: AsyncConnection, me: int, other: int) -> dict[str, bool]:
    """How ``me`` and ``other`` relate (for profile buttons and Mastodon's relationships)."""
    rows = list(
        await conn.execute(
            sa.select(
                t.follows.c.follower_id,
                t.follows.c.state,
                t.follows.c.show_reblogs,
                t.follows.c.notify,
            ).where(
                sa.or_(
                    sa.and_(t.follows.c.follower_id == me, t.follows.c.target_id == other),
                    sa.and_(t.follows.c.follower_id == other, t.follows.c.target_id == me),
                )
            )
        )
    )
    mine = next((r for r in rows if r.follower_id == me), None)
    theirs = next((r for r in rows if r.follower_id == other), None)
    blocks = {
        (r.actor_id, r.target_id)
        for r in await conn.execute(
            sa.select(t.blocks.c.actor_id, t.blocks.c.target_id).where(
                sa.or_(
                    sa.and_(t.blocks.c.actor_id == me, t.blocks.c.target_id == other),
                    sa.and_(t.blocks.c.actor_id == other, t.blocks.c.target_id == me),
                )
            )
        )
    }
    mute = (
        await conn.execute(
            sa.select(t.mutes).where(t.mutes.c.actor_id == me, t.mutes.c.target_id == other)
        )
    ).first()
    return {
        "following": mine is not None and mine.state == "accepted",
        "requested": mine is not None and mine.state == "pending",
        "showing_reblogs": mine is not None and bool(mine.show_reblogs),
        "notifying": mine is not None and bool(mine.notify),
        "followed_by": theirs is not None and theirs.state == "accepted",
        "requested_by": theirs is not None and theirs.state == "pending",
        "blocking": (me, other) in blocks,
        "blocked_by": (other, me) in blocks,
        "muting": mute is not None,
        "muting_notifications": mute is not None and bool(mute.notifications),
    }


async def block(ctx: Context, actor_id: int, target_id: int) -> None:
    """Block: both follow directions end; the target no longer sees the blocker's posts."""
    if actor_id == target_id:
        raise ValidationError("you cannot block yourself", field="id")
    async with ctx.db.write() as conn:
        await _actor(conn, target_id)
        if not (
            await conn.execute(
                sa.select(t.blocks.c.id).where(
                    t.blocks.c.actor_id == actor_id, t.blocks.c.target_id == target_id
                )
            )
        ).first():
            await conn.execute(
                t.blocks.insert().values(
                    actor_id=actor_id, target_id=target_id, created_at=clock.now()
                )
            )
        await conn.execute(
            t.follows.delete().where(
                sa.or_(
                    sa.and_(
                        t.follows.c.follower_id == actor_id, t.follows.c.target_id == target_id
                    ),
                    sa.and_(
                        t.follows.c.follower_id == target_id, t.follows.c.target_id == actor_id
                    ),
                )
            )
        )
        event = await ctx.events.emit(
            conn, kinds.BLOCK_CREATED, actor_id=actor_id, target_id=target_id
        )
    await ctx.events.committed(event)


async def unblock(ctx: Context, actor_id: int, target_id: int) -> None:
    async with ctx.db.write() as conn:
        res = await conn.execute(
            t.blocks.delete().where(
                t.blocks.c.actor_id == actor_id, t.blocks.c.target_id == target_id
            )
        )
        event = (
            await ctx.events.emit(conn, kinds.BLOCK_UNDONE, actor_id=actor_id, target_id=target_id)
            if res.rowcount
            else None
        )
    if event:
        await ctx.events.committed(event)


async def mute(
    ctx: Context, actor_id: int, target_id: int, *, notifications_too: bool = True
) -> None:
    async with ctx.db.write() as conn:
        await _actor(conn, target_id)
        await conn.execute(
            t.mutes.delete().where(t.mutes.c.actor_id == actor_id, t.mutes.c.target_id == target_id)
        )
        await conn.execute(
            t.mutes.insert().values(
                actor_id=actor_id,
                target_id=target_id,
                notifications=notifications_too,
                created_at=clock.now(),
            )
        )


async def unmute(ctx: Context, actor_id: int, target_id: int) -> None:
    async with ctx.db.write() as conn:
        await conn.execute(
            t.mutes.delete().where(t.mutes.c.actor_id == actor_id, t.mutes.c.target_id == target_id)
        )


def followers_query(target_id: int, *, state: str = "accepted") -> sa.Select:
    return (
        sa.select(t.actors)
        .join(t.follows, t.follows.c.follower_id == t.actors.c.id)
        .where(t.follows.c.target_id == target_id, t.follows.c.state == state)
        .order_by(t.follows.c.id.desc())
    )


def following_query(follower_id: int, *, kind: str | None = "person") -> sa.Select:
    q = (
        sa.select(t.actors)
        .join(t.follows, t.follows.c.target_id == t.actors.c.id)
        .where(t.follows.c.follower_id == follower_id, t.follows.c.state == "accepted")
        .order_by(t.follows.c.id.desc())
    )
    return q.where(t.actors.c.kind == kind) if kind else q
