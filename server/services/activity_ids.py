"""The ActivityPub ids of the activities our rows stand for: what one is, named by its id alone
(a remote ``Undo`` may name what it takes back by id only), and the ids our own ``Like`` and
``Follow`` keep, so an ``Undo`` names the activity it undoes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t

# The rows that keep an activity's id, with the activity type each stands for.
_KEPT = ((t.follows, "Follow"), (t.favourites, "Like"), (t.posts, "Announce"))


async def activity_type_of(conn: AsyncConnection, uri: str) -> str | None:
    """``Follow``, ``Like`` or ``Announce`` when a row we keep has the id ``uri``; else None."""
    for table, name in _KEPT:
        if (await conn.execute(sa.select(table.c.id).where(table.c.uri == uri))).first():
            return name
    return None


async def like_id(conn: AsyncConnection, actor_id: int, post_id: int, fresh: str) -> str:
    """The id of ``actor_id``'s ``Like`` of ``post_id``: the one its favourite keeps, else ``fresh``
    (kept on the favourite from now on, so its ``Undo`` names the same id)."""
    fav = (
        await conn.execute(
            sa.select(t.favourites).where(
                t.favourites.c.actor_id == actor_id, t.favourites.c.post_id == post_id
            )
        )
    ).first()
    if fav is not None and fav.uri:
        return str(fav.uri)
    if fav is not None:
        await conn.execute(
            t.favourites.update().where(t.favourites.c.id == fav.id).values(uri=fresh)
        )
    return fresh


async def follow_id(conn: AsyncConnection, follow_id: int, fresh: str) -> str:
    """The id of the ``Follow`` of the follows row ``follow_id``: the one it keeps, else ``fresh``
    (kept from now on)."""
    uri = (
        await conn.execute(sa.select(t.follows.c.uri).where(t.follows.c.id == follow_id))
    ).scalar()
    if uri:
        return str(uri)
    await conn.execute(t.follows.update().where(t.follows.c.id == follow_id).values(uri=fresh))
    return fresh
