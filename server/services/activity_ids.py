"""What one of the activities we hold is, named by its ActivityPub id alone.

A remote ``Undo`` may name the activity it takes back by id only; we recognise the follows,
favourites and boosts we keep (each row keeps the id of its activity).
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
