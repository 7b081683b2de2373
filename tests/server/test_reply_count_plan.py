"""The visible-replies count of a page's posts finds the replies by ``in_reply_to_id`` whatever the
statistics say: never by walking the audience index over most of the table (which made every
page cost a scan of all public posts). Anonymous viewers read the denormalised counts instead."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server import clock
from server.services import views
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import Viewer
from tests.server.test_timeline_plans import _explain, _fill


def _parents(conn: sa.Connection, author: int) -> list[int]:
    parents = [
        int(r.id)
        for r in conn.execute(sa.select(t.posts.c.id).order_by(t.posts.c.id.desc()).limit(150))
    ]
    conn.execute(
        t.posts.insert(),
        [
            {
                "uri": f"https://plan.test/reply/{i}",
                "author_id": author,
                "local": False,
                "audience": "public",
                "in_reply_to_id": parents[i % len(parents)],
                "created_at": clock.now(),
            }
            for i in range(300)
        ],
    )
    return parents


@pytest.mark.parametrize("analysed", [False, True])
@pytest.mark.parametrize("who", ["member", "admin"])
async def test_visible_replies_are_found_by_their_parent(
    new_database_url, backend: str, who: str, analysed: bool
) -> None:
    db = Database(await new_database_url())
    try:
        me, other, _community = await db.write(_fill, 3000)
        parents = await db.write(_parents, other)
        if analysed:  # as PRAGMA optimize / autovacuum leave it; before that, no statistics
            async with db.write() as conn:
                await conn.exec_driver_sql("ANALYZE")
        viewer = Viewer(actor_id=me, local=True, is_admin=who == "admin")
        stmt = views._visible_replies.get(viewer)
        params = {"me": me, "ids": parents[:40]}
        plan = await db.read(_explain, stmt, params)
        counts = dict(await db.read(lambda c: c.execute(stmt, params).all()))
    finally:
        await db.close()
    assert "ix_posts_audience" not in plan, plan
    assert "in_reply_to_id" in plan, plan
    assert sum(counts.values()) == 80  # two replies to each of the 40 posts of a page
