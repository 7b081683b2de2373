"""A member's choice of interface language (``users.language``; NULL: let the browser decide)."""

from __future__ import annotations

import sqlalchemy as sa

from server.errors import ValidationError
from server.i18n import LANGUAGES, N_
from server.storage import schema as t
from server.storage.db import Database


async def set_language(db: Database, user_id: int, language: str | None) -> None:
    """Store the member's language; ``None`` or ``""`` clears the choice (the browser decides)."""
    value = language or None
    if value is not None and value not in LANGUAGES:
        raise ValidationError(N_("Choose one of the languages offered."), field="language")

    def write(conn: sa.Connection) -> None:
        conn.execute(t.users.update().where(t.users.c.id == user_id).values(language=value))

    await db.write(write)


async def language_of(db: Database, user_id: int) -> str | None:
    """The member's chosen language, or None when they chose none (or there is no such member)."""

    def read(conn: sa.Connection) -> str | None:
        return conn.execute(
            sa.select(t.users.c.language).where(t.users.c.id == user_id)
        ).scalar_one_or_none()

    return await db.read(read)
