"""``prepared.rows`` gives the values ``conn.execute`` gives: times, booleans and NULLs converted
by the statement's own types, ``IN`` lists of every length (none included), constant lists,
literals in a UNION, and parameters left out as ``None``."""

from __future__ import annotations

import sqlalchemy as sa

from server import clock
from server.storage import prepared
from server.storage import schema as t
from server.storage.db import Database
from server.storage.prepared import IDS, ME

_ACTORS = sa.select(
    t.actors.c.id, t.actors.c.username, t.actors.c.created_at, t.actors.c.bot
).where(t.actors.c.id.in_(IDS), t.actors.c.kind.in_(["person", "group"]))
_UNION = sa.union_all(
    sa.select(sa.literal("a", sa.String), t.actors.c.id).where(t.actors.c.id.in_(IDS)),
    sa.select(sa.literal("b", sa.String), t.actors.c.id).where(t.actors.c.id == ME),
)
_SINCE = sa.select(t.actors.c.id).where(
    t.actors.c.created_at > sa.bindparam("since", type_=sa.DateTime(timezone=True)),
    t.actors.c.bot.is_(sa.bindparam("locked", type_=sa.Boolean)),
)


def _fill(conn: sa.Connection) -> list[int]:
    now = clock.now()
    ids = []
    for i in range(5):
        res = conn.execute(
            t.actors.insert()
            .values(
                uri=f"https://rows.test/{i}",
                kind="group" if i == 3 else "person",
                username=f"r{i}",
                domain="rows.test",
                bot=i % 2 == 0,
                created_at=now,
                updated_at=now,
            )
            .returning(t.actors.c.id)
        )
        ids.append(int(res.scalar_one()))
    return ids


def _both(conn: sa.Connection, stmt: sa.Select | sa.CompoundSelect, params: dict) -> tuple:
    fast = prepared.rows(conn, stmt, params)
    slow = [tuple(r) for r in conn.execute(stmt, params)]
    return sorted(fast, key=repr), sorted(slow, key=repr)


async def test_rows_give_what_execute_gives(unit_db: Database) -> None:
    ids = await unit_db.write(_fill)

    def check(conn: sa.Connection) -> None:
        for some in ([], ids[:1], ids, [*ids, 10**9]):
            fast, slow = _both(conn, _ACTORS, {"ids": some})
            assert fast == slow and len(fast) == len(some) - (some[-1:] == [10**9])
            assert all(isinstance(r[2], type(clock.now())) for r in fast)
            assert all(isinstance(r[3], bool) for r in fast)
            fast, slow = _both(conn, _UNION, {"ids": some, "me": ids[0]})
            assert fast == slow
        earlier = clock.now().replace(year=2000)
        for locked in (True, False):
            fast, slow = _both(conn, _SINCE, {"since": earlier, "locked": locked})
            assert fast == slow and fast
        assert prepared.rows(conn, _UNION, {"ids": []}) == []  # ``me`` left out: NULL

    await unit_db.read(check)


async def test_rows_through_an_async_connection_are_the_same(unit_db: Database) -> None:
    ids = await unit_db.write(_fill)
    async with unit_db.read() as conn:
        found = await conn.run_sync(prepared.rows, _ACTORS, {"ids": ids})
    assert sorted(r[0] for r in found) == sorted(ids)
