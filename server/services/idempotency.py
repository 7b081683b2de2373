"""Idempotency keys: the same ``Idempotency-Key`` from one member creates one post, however often sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.storage import schema as t
from server.storage.prepared import rows
from server.storage.rows import dialect_insert

MAX_KEY = 255


_K = t.idempotency_keys
# built once: the write unit of a post runs them (``posts.create_post``)
_LOOKUP = (
    sa.select(_K.c.id, _K.c.post_id, t.posts.c.deleted_at)
    .join(t.posts, t.posts.c.id == _K.c.post_id)
    .where(_K.c.user_id == sa.bindparam("user"), _K.c.key == sa.bindparam("key"))
)
_REPOINT = (
    _K.update()
    .where(_K.c.id == sa.bindparam("row"))
    .values(post_id=sa.bindparam("post"), created_at=sa.bindparam("at"))
)
_INSERTS: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """What a key stands for: the live post made with it, and its row (whatever that post's state)."""

    post_id: int | None
    row_id: int | None


async def lookup_in(conn: AsyncConnection, user_id: int, key: str) -> KeyLookup:
    """The key's post and row on a connection the caller holds (the post's own write unit)."""
    found = await conn.run_sync(rows, _LOOKUP, {"user": user_id, "key": key[:MAX_KEY]})
    if not found:
        return KeyLookup(None, None)
    row_id, post_id, deleted_at = found[0]
    return KeyLookup(int(post_id) if deleted_at is None else None, int(row_id))


async def post_for_key_in(conn: AsyncConnection, user_id: int, key: str) -> int | None:
    """``post_for_key`` on a connection the caller holds."""
    return (await lookup_in(conn, user_id, key)).post_id


async def post_for_key(ctx: Context, user_id: int, key: str) -> int | None:
    """The post an earlier request with this key created, if it still exists."""
    async with ctx.db.read() as conn:
        return await post_for_key_in(conn, user_id, key)


async def record_in(
    conn: AsyncConnection, user_id: int, key: str, post_id: int, found: KeyLookup
) -> None:
    """Record in the caller's write transaction that ``key`` made ``post_id``, given what
    ``lookup_in`` found: the row of an earlier, deleted post is pointed at the new one; a
    concurrent duplicate's record is kept (no conflict is raised)."""
    now = clock.now()
    if found.row_id is not None:
        await conn.execute(_REPOINT, {"row": found.row_id, "post": post_id, "at": now})
        return
    dialect = conn.dialect.name
    insert = _INSERTS.get(dialect)
    if insert is None:
        insert = _INSERTS[dialect] = dialect_insert(dialect)(_K).on_conflict_do_nothing(
            index_elements=["user_id", "key"]
        )
    await conn.execute(
        insert, {"user_id": user_id, "key": key[:MAX_KEY], "post_id": post_id, "created_at": now}
    )


async def remember_in(conn: AsyncConnection, user_id: int, key: str, post_id: int) -> None:
    """``remember`` in the caller's write transaction."""
    await record_in(conn, user_id, key, post_id, await lookup_in(conn, user_id, key))


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
