"""Idempotency keys: the same ``Idempotency-Key`` from one member creates one post, however often sent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.storage import schema as t
from server.storage.rows import dialect_insert

MAX_KEY = 255


def _post_for_key_query(user_id: int, key: str) -> sa.Select:
    return (
        sa.select(t.idempotency_keys.c.post_id)
        .join(t.posts, t.posts.c.id == t.idempotency_keys.c.post_id)
        .where(
            t.idempotency_keys.c.user_id == user_id,
            t.idempotency_keys.c.key == key[:MAX_KEY],
            t.posts.c.deleted_at.is_(None),
        )
    )


async def post_for_key_in(conn: AsyncConnection, user_id: int, key: str) -> int | None:
    """``post_for_key`` on a connection the caller holds (the post's own write unit)."""
    row = (await conn.execute(_post_for_key_query(user_id, key))).first()
    return int(row[0]) if row else None


async def post_for_key(ctx: Context, user_id: int, key: str) -> int | None:
    """The post an earlier request with this key created, if it still exists."""
    async with ctx.db.read() as conn:
        return await post_for_key_in(conn, user_id, key)


async def remember_in(conn: AsyncConnection, user_id: int, key: str, post_id: int) -> None:
    """``remember`` in the caller's write transaction: the record of an earlier, deleted post with
    this key is replaced; a concurrent duplicate's record is kept (no conflict is raised)."""
    await conn.execute(
        t.idempotency_keys.delete().where(
            t.idempotency_keys.c.user_id == user_id,
            t.idempotency_keys.c.key == key[:MAX_KEY],
        )
    )
    insert = dialect_insert(conn.dialect.name)
    await conn.execute(
        insert(t.idempotency_keys)
        .values(user_id=user_id, key=key[:MAX_KEY], post_id=post_id, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
    )


async def remember(ctx: Context, user_id: int, key: str, post_id: int) -> None:
    """Record that ``key`` created ``post_id`` (a concurrent duplicate keeps the first record)."""
    async with ctx.db.write() as conn:
        await remember_in(conn, user_id, key, post_id)


async def post_for_form_token(ctx: Context, user_id: int, token: str) -> int | None:
    """The post a compose form with this one-time token already created (a double submit)."""
    async with ctx.db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.idempotency_keys.c.post_id).where(
                    t.idempotency_keys.c.user_id == user_id, t.idempotency_keys.c.key == token
                )
            )
        ).scalar()


async def remember_form_token(ctx: Context, user_id: int, token: str, post_id: int) -> int:
    """Record that the form ``token`` created ``post_id``; the post that keeps the token.

    When a concurrent submit of the same form stored the token first, that post keeps it and its
    id is returned, so the caller drops its own.
    """
    try:
        async with ctx.db.write() as conn:
            await conn.execute(
                t.idempotency_keys.insert().values(
                    user_id=user_id, key=token, post_id=post_id, created_at=clock.now()
                )
            )
        return post_id
    except IntegrityError:
        first = await post_for_form_token(ctx, user_id, token)
        if first is None:
            raise
        return first
