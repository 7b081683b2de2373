"""The full-text index of posts, rebuilt: ``koers search rebuild``.

Triggers keep ``post_search`` in the transaction of every change to a post (see
``server/storage/fulltext.py``); the rebuild is for an index that is doubted or was left behind on
purpose (a bulk load that paused the triggers, a restore). Searching is
``timelines.search_posts``, which pages like every other list of posts.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import fulltext
from server.storage.db import Database


def _rebuild(conn: sa.Connection) -> int:
    for statement in fulltext.rebuild_statements(conn.dialect.name):
        conn.exec_driver_sql(statement)
    table = "post_search" if conn.dialect.name == "postgresql" else "post_search_docsize"
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


async def rebuild(db: Database) -> int:
    """Index every post again in one write transaction; returns how many posts are indexed."""
    return await db.write(_rebuild)
