"""Helpers for end-to-end federation tests between real instances on loopback."""

from __future__ import annotations

import sqlalchemy as sa

from federation.actors import resolve_actor
from federation.delivery import run_delivery_once
from federation.inbox import process_inbox_once
from server.services import follows
from server.storage import schema as t


async def pump(*instances, rounds: int = 20) -> None:  # type: ignore[no-untyped-def]
    """Deliver and process until every queue is empty (deterministic, stops by itself)."""
    for _ in range(rounds):
        busy = 0
        for inst in instances:
            busy += await run_delivery_once(inst.app)
        for inst in instances:
            busy += await process_inbox_once(inst.app)
        if not busy:
            return
    raise AssertionError("queues did not drain")


async def remote_id(inst, other, path: str) -> int:  # type: ignore[no-untyped-def]
    """The actor id on ``inst`` of ``other``'s actor at ``path`` (e.g. ``/users/alice``)."""
    return await resolve_actor(inst.app, other.url + path)


async def follow_remote(inst, other, follower_id: int, path: str) -> int:  # type: ignore[no-untyped-def]
    """``follower_id`` on ``inst`` follows ``other``'s actor; returns the remote actor's id on ``inst``."""
    target = await remote_id(inst, other, path)
    await follows.follow(inst.ctx, follower_id, target)
    return target


async def follow_state(inst, follower_id: int, target_id: int) -> str | None:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.follows.c.state).where(
                    t.follows.c.follower_id == follower_id, t.follows.c.target_id == target_id
                )
            )
        ).scalar()


async def post_by_uri(inst, uri: str):  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == uri))).first()


async def actor_on(inst, uri: str) -> int | None:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == uri))).scalar()


async def competencies_on(inst, actor_id: int) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """The (name, level) competencies ``inst`` holds for the actor ``actor_id``."""
    async with inst.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.competencies.c.name, t.competencies.c.level)
            .where(t.competencies.c.actor_id == actor_id)
            .order_by(t.competencies.c.name)
        )
        return [(r.name, r.level) for r in rows]
