"""The results lists of a profile, a community and the front page walk an index of results
(author, community or instance; kind; id) newest first: they never read the posts around them,
nor sort (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``), on an empty and a filled
database; so does the navigation's unread count."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server import clock
from server.services import inbox_notifications, timelines
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import ANONYMOUS, Viewer
from tests.server.test_timeline_plans import _explain

PAGE = (False, False, False)  # no max_id / since_id / min_id


def _fill(conn: sa.Connection, n: int) -> tuple[int, int]:
    """An author and a community with ``n`` posts, one in fifty a result."""
    now = clock.now()

    def actor(name: str, kind: str = "person") -> int:
        row = conn.execute(
            t.actors.insert()
            .values(
                uri=f"https://results.test/{name}",
                kind=kind,
                username=name,
                domain=None,
                created_at=now,
                updated_at=now,
            )
            .returning(t.actors.c.id)
        )
        return int(row.scalar_one())

    author, group = actor("author"), actor("group", "group")
    community = conn.execute(
        t.communities.insert()
        .values(actor_id=group, name="Results", local=True, created_at=now)
        .returning(t.communities.c.id)
    ).scalar_one()
    rows = [
        {
            "uri": f"https://results.test/p/{i}",
            "author_id": author,
            "local": True,
            "kind": "result" if i % 50 == 0 else "note",
            "audience": "public" if i % 3 else "community",
            "community_id": community,
            "created_at": now,
        }
        for i in range(n)
    ]
    if rows:
        conn.execute(t.posts.insert(), rows)
    return author, int(community)


def _queries(author: int, community: int) -> dict[str, tuple[sa.Select, dict]]:
    member = Viewer(actor_id=author + 1000, local=True)
    only = timelines.ProfileFilter(only_results=True)
    return {
        "profile": (
            timelines._profile.get(ANONYMOUS, PAGE, False, only),
            {"actor_id": author, "limit": 5},
        ),
        "community": (
            timelines._community.get(member, PAGE, True, False, False),
            {"community_id": community, "me": member.actor_id, "limit": 5},
        ),
        "instance": (timelines._results.get(ANONYMOUS, PAGE), {"limit": 10}),
    }


INDEXES = {
    "profile": "ix_posts_author_kind_id",
    "community": "ix_posts_community_kind_id",
    "instance": "ix_posts_kind_id",
}


@pytest.mark.parametrize("which", ["profile", "community", "instance"])
@pytest.mark.parametrize("rows", [0, 3000])
async def test_results_lists_walk_the_results_index(
    new_database_url, backend: str, rows: int, which: str
) -> None:
    db = Database(await new_database_url())
    try:
        author, community = await db.write(_fill, rows)
        if rows:
            async with db.write() as conn:  # statistics as PRAGMA optimize would gather them
                await conn.exec_driver_sql("ANALYZE")
        stmt, params = _queries(author, community)[which]
        plan = await db.read(_explain, stmt, params)
    finally:
        await db.close()
    assert "TEMP B-TREE" not in plan, f"{which} sorts:\n{plan}"
    assert "Sort" not in plan, f"{which} sorts:\n{plan}"
    if backend == "sqlite":
        assert INDEXES[which] in plan, plan


async def test_results_lists_answer_as_before(new_database_url) -> None:
    """The index changes how the results are found, not which: the newest results first."""
    db = Database(await new_database_url())
    try:
        author, community = await db.write(_fill, 300)
        async with db.read() as conn:
            ids = await timelines.profile(
                conn, ANONYMOUS, author, timelines.Page(limit=5), only_results=True
            )
            in_community = await timelines.community(
                conn, ANONYMOUS, community, timelines.Page(limit=5), only_results=True
            )
            kinds = (
                await conn.execute(
                    sa.select(t.posts.c.id)
                    .where(t.posts.c.kind == "result", t.posts.c.audience == "public")
                    .order_by(t.posts.c.id.desc())
                    .limit(5)
                )
            ).scalars()
            expected = list(kinds)
    finally:
        await db.close()
    assert ids == expected
    assert in_community == expected


def _notify(conn: sa.Connection, n: int) -> int:
    """A member with ``n`` notifications, all but the last ten read."""
    now = clock.now()
    me = conn.execute(
        t.actors.insert()
        .values(
            uri="https://results.test/me",
            kind="person",
            username="me",
            created_at=now,
            updated_at=now,
        )
        .returning(t.actors.c.id)
    ).scalar_one()
    rows = [
        {"actor_id": me, "type": "follow", "read": i < n - 10, "created_at": now} for i in range(n)
    ]
    if rows:
        conn.execute(t.notifications.insert(), rows)
    return int(me)


@pytest.mark.parametrize("rows", [0, 3000])
async def test_the_unread_count_walks_the_unread_index(
    new_database_url, backend: str, rows: int
) -> None:
    """The navigation's count (on every signed-in page) reads the unread notifications only."""
    db = Database(await new_database_url())
    statements: list[tuple[Any, dict]] = []

    def seen(_conn: Any, clause: Any, multiparams: Any, params: Any, _options: Any) -> None:
        if isinstance(clause, sa.Select) and "notifications" in str(clause):
            # the statement is prebuilt with bound parameters: explain it with the values it ran
            # with (without them, PostgreSQL plans "actor_id = NULL" as an empty sorted result)
            values = dict(multiparams[0]) if multiparams else dict(params or {})
            statements.append((clause, {k: v for k, v in values.items() if v is not None}))

    try:
        me = await db.write(_notify, rows)
        if rows:
            async with db.write() as conn:
                await conn.exec_driver_sql("ANALYZE")
        event.listen(Engine, "before_execute", seen)
        try:
            count = await db.read(inbox_notifications.unread_shown, Viewer(actor_id=me, local=True))
        finally:
            event.remove(Engine, "before_execute", seen)
        assert count == (10 if rows else 0)
        plan = await db.read(_explain, *statements[0])
    finally:
        await db.close()
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    if backend == "sqlite":
        assert "ix_notifications_unread" in plan, plan
