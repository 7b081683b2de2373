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
from server.events import Event
from server.services import home_feed, notifications
from server.services.remote_groups import ensure_remote_community
from server.storage import schema as t
from server.storage.rows import inserted_id


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


def _first_state(target: sa.Row, community: sa.Row | None) -> str | None:
    """The state a new follow of a local actor starts in: ``accepted`` for an open community or
    account, ``pending`` for one that approves, None when refused (a community by invitation)."""
    if community is not None:
        if community.openness == "invite":
            return None
        return "accepted" if community.openness == "open" else "pending"
    return "pending" if target.manually_approves_followers else "accepted"


async def _tell_target(
    conn: AsyncConnection,
    follower_id: int,
    target_id: int,
    community: sa.Row | None,
    state: str,
) -> None:
    """A new follow of a local actor: its managers hear of a join request, a person of the follow."""
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


async def receive_follow(
    conn: AsyncConnection, follower_id: int, target: sa.Row, uri: str | None
) -> str:
    """A remote ``Follow`` of a local person or community, by the same rules as a local follow.

    Returns ``accepted``, ``pending`` or ``rejected`` (blocked by the target, or a community by
    invitation only); the caller answers with ``Accept`` / ``Reject`` in this transaction.
    """
    blocked = await conn.execute(
        sa.select(1).where(t.blocks.c.actor_id == target.id, t.blocks.c.target_id == follower_id)
    )
    community = await _local_community(conn, target.id)
    state = _first_state(target, community)
    if blocked.first() or state is None:
        return "rejected"
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
            t.follows.update().where(t.follows.c.id == existing.id).values(uri=uri, state=state)
        )
        return state
    await conn.execute(
        t.follows.insert().values(
            follower_id=follower_id,
            target_id=target.id,
            state=state,
            uri=uri,
            created_at=clock.now(),
        )
    )
    await _tell_target(conn, follower_id, target.id, community, state)
    return state


async def _answered_follow(
    conn: AsyncConnection, remote_id: int, follow_uri: str | None, follower_uri: str | None
) -> sa.Row:
    """Our follow of ``remote_id`` an Accept/Reject answers: by the Follow's id, else by the pair
    (the follower named in the embedded Follow). NotFound when none matches."""
    row = None
    if follow_uri:
        row = (
            await conn.execute(sa.select(t.follows).where(t.follows.c.uri == follow_uri))
        ).first()
    if row is None and follower_uri:
        local = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == follower_uri))
        ).scalar()
        if local is not None:
            row = (
                await conn.execute(
                    sa.select(t.follows).where(
                        t.follows.c.follower_id == local, t.follows.c.target_id == remote_id
                    )
                )
            ).first()
    if row is None or row.target_id != remote_id:
        raise NotFound("no follow matches")
    return row


async def receive_accept(
    conn: AsyncConnection, remote_id: int, follow_uri: str | None, follower_uri: str | None
) -> int | None:
    """A remote actor accepted our follow (or a Group our member's join). Returns our
    ``communities`` row of the Group when a member joined one (to catch up with), else None.

    The member hears of a join a manager approved (the Group approves followers by hand).
    """
    row = await _answered_follow(conn, remote_id, follow_uri, follower_uri)
    await conn.execute(t.follows.update().where(t.follows.c.id == row.id).values(state="accepted"))
    remote = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == remote_id))).one()
    if remote.kind != "group":
        await conn.run_sync(home_feed.follow_accepted, row.follower_id, remote_id)
        return None
    community_id = await ensure_remote_community(conn, remote)
    await conn.run_sync(home_feed.follow_accepted, row.follower_id, remote_id)
    if row.state == "pending" and remote.manually_approves_followers:  # a manager said yes
        await notifications.notify(
            conn,
            row.follower_id,
            "koers.join_approved",
            from_actor_id=remote_id,
            community_id=community_id,
        )
    return community_id


async def receive_reject(
    conn: AsyncConnection, remote_id: int, follow_uri: str | None, follower_uri: str | None
) -> None:
    """A remote actor refused (or ended) our follow: it goes."""
    row = await _answered_follow(conn, remote_id, follow_uri, follower_uri)
    await conn.execute(t.follows.delete().where(t.follows.c.id == row.id))
    await conn.run_sync(home_feed.follow_ended, row.follower_id, remote_id)


async def receive_unfollow(
    conn: AsyncConnection, follower_id: int, target_uri: str | None, follow_uri: str | None
) -> bool:
    """A remote ``Undo`` of the actor's ``Follow`` (of ``target_uri``, or by the Follow's id).
    False when there was none."""
    target = (
        (await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == target_uri))).scalar()
        if target_uri
        else None
    )
    cond = t.follows.c.uri == follow_uri if target is None else t.follows.c.target_id == target
    res = await conn.execute(t.follows.delete().where(t.follows.c.follower_id == follower_id, cond))
    return bool(res.rowcount)


async def _local_community(conn: AsyncConnection, actor_id: int) -> sa.Row | None:
    """The community whose Group is this local actor, if any."""
    return (
        await conn.execute(
            sa.select(t.communities)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.communities.c.actor_id == actor_id, t.actors.c.domain.is_(None))
        )
    ).first()


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
    state, event = await ctx.db.write(_follow, ctx, follower_id, target_id, show_reblogs, notify)
    if event is not None:
        await ctx.events.committed(event)
    return state


async def _follow(
    conn: AsyncConnection,
    ctx: Context,
    follower_id: int,
    target_id: int,
    show_reblogs: bool,
    notify: bool,
) -> tuple[str, Event | None]:
    """In the write unit of ``follow``: the follow and its event (None: it was there already)."""
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
        return existing.state, None
    community = await _community_of(conn, target_id) if target.kind == "group" else None
    if target.domain is not None:
        state = "pending"  # the remote server answers with Accept or Reject
    else:
        first = _first_state(target, community)
        if first is None:
            raise Forbidden("this community is by invitation only; ask a community manager")
        state = first
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
    follow_id = inserted_id(res)
    if target.domain is None:
        await _tell_target(conn, follower_id, target_id, community, state)
    event = await ctx.events.emit(
        conn,
        kinds.FOLLOW_CREATED,
        follow_id=follow_id,
        follower_id=follower_id,
        target_id=target_id,
        state=state,
    )
    return state, event


async def unfollow(ctx: Context, follower_id: int, target_id: int) -> None:
    """Stop following (or leave a community, or withdraw a request)."""
    event = await ctx.db.write(_unfollow, ctx, follower_id, target_id)
    if event is not None:
        await ctx.events.committed(event)


async def _unfollow(
    conn: AsyncConnection, ctx: Context, follower_id: int, target_id: int
) -> Event | None:
    """In the write unit of ``unfollow``: the follow and what it gave gone (None: there was none)."""
    row = (
        await conn.execute(
            sa.select(t.follows).where(
                t.follows.c.follower_id == follower_id, t.follows.c.target_id == target_id
            )
        )
    ).first()
    if row is None:
        return None
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
    return event


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


async def record_block(
    conn: AsyncConnection, actor_id: int, target_id: int, uri: str | None = None
) -> None:
    """The block rule, for a local block and a remote ``Block`` alike: one row per pair, and the
    follows both ways end."""
    if not (
        await conn.execute(
            sa.select(t.blocks.c.id).where(
                t.blocks.c.actor_id == actor_id, t.blocks.c.target_id == target_id
            )
        )
    ).first():
        await conn.execute(
            t.blocks.insert().values(
                actor_id=actor_id, target_id=target_id, uri=uri, created_at=clock.now()
            )
        )
    await conn.execute(
        t.follows.delete().where(
            sa.or_(
                sa.and_(t.follows.c.follower_id == actor_id, t.follows.c.target_id == target_id),
                sa.and_(t.follows.c.follower_id == target_id, t.follows.c.target_id == actor_id),
            )
        )
    )


async def remove_block(conn: AsyncConnection, actor_id: int, target_id: int) -> bool:
    """Lift a block (local or a remote ``Undo`` of one); False when there was none."""
    res = await conn.execute(
        t.blocks.delete().where(t.blocks.c.actor_id == actor_id, t.blocks.c.target_id == target_id)
    )
    return bool(res.rowcount)


async def block(ctx: Context, actor_id: int, target_id: int) -> None:
    """Block: both follow directions end; the target no longer sees the blocker's posts."""
    if actor_id == target_id:
        raise ValidationError("you cannot block yourself", field="id")
    async with ctx.db.write() as conn:
        await _actor(conn, target_id)
        await record_block(conn, actor_id, target_id)
        event = await ctx.events.emit(
            conn, kinds.BLOCK_CREATED, actor_id=actor_id, target_id=target_id
        )
    await ctx.events.committed(event)


async def unblock(ctx: Context, actor_id: int, target_id: int) -> None:
    """Lift a block."""
    async with ctx.db.write() as conn:
        lifted = await remove_block(conn, actor_id, target_id)
        event = (
            await ctx.events.emit(conn, kinds.BLOCK_UNDONE, actor_id=actor_id, target_id=target_id)
            if lifted
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
