"""Group commit (``server.storage.group_commit``): concurrent tasks' write transactions share their
commits, each block in its own savepoint; reads see the task's own uncommitted writes; after-commit
work waits for the commit and a failed commit names what it lost. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server import clock
from server.events import EventHub
from server.storage import group_commit
from server.storage import schema as t
from server.storage.db import Database


def _values(name: str) -> dict[str, Any]:
    now = clock.now()
    return {
        "uri": f"https://group.test/{name}",
        "kind": "person",
        "username": name,
        "domain": "group.test",
        "created_at": now,
        "updated_at": now,
    }


async def _names(db: Database) -> list[str]:
    async with db.read() as conn:
        q = sa.select(t.actors.c.username).where(t.actors.c.domain == "group.test")
        return sorted(r[0] for r in await conn.execute(q))


@pytest.fixture
async def db(new_database_url):  # type: ignore[no-untyped-def]
    database = Database(await new_database_url())
    yield database
    await database.close()


def _count_commits() -> tuple[list[int], Any]:
    commits = [0]

    def seen(_conn: Any) -> None:
        commits[0] += 1

    event.listen(sa.engine.Engine, "commit", seen)
    return commits, lambda: event.remove(sa.engine.Engine, "commit", seen)


async def test_concurrent_write_blocks_share_commits(db: Database) -> None:
    async def add(name: str) -> None:
        group_commit.set_key(name)
        async with db.write() as conn:
            await conn.execute(t.actors.insert().values(**_values(name)))
        await db.write(lambda c: c.execute(t.actors.insert().values(**_values(name + "-unit"))))

    commits, stop = _count_commits()
    try:
        async with db.group_commit() as scope:
            await asyncio.gather(*(add(f"u{i}") for i in range(8)))
    finally:
        stop()
    assert len(await _names(db)) == 16
    assert scope.blocks == 16
    assert 1 <= scope.commits < scope.blocks  # waiting blocks joined the open transaction
    assert commits[0] == scope.commits
    assert not scope.lost


async def test_a_failing_block_rolls_back_alone(db: Database) -> None:
    async def good(name: str) -> None:
        async with db.write() as conn:
            await conn.execute(t.actors.insert().values(**_values(name)))

    async def bad() -> None:
        async with db.write() as conn:
            await conn.execute(t.actors.insert().values(**_values("bad")))
            raise ValueError("refused")

    async with db.group_commit():
        results = await asyncio.gather(good("a"), bad(), good("b"), return_exceptions=True)
    assert isinstance(results[1], ValueError)
    assert await _names(db) == ["a", "b"]
    async with db.group_commit():  # a failing first block (no savepoint) takes only itself
        results = await asyncio.gather(bad(), good("c"), return_exceptions=True)
        await good("d")
    assert isinstance(results[0], ValueError)
    assert await _names(db) == ["a", "b", "c", "d"]


async def test_a_task_reads_its_own_uncommitted_writes(db: Database) -> None:
    seen: dict[str, list[str]] = {}
    gate = asyncio.Event()

    async def writer() -> None:
        group_commit.set_key("writer")
        async with db.write() as conn:
            await conn.execute(t.actors.insert().values(**_values("w")))
            gate.set()
            await asyncio.sleep(0.05)  # the other task queues for the connection meanwhile
        seen["writer"] = await _names(db)

    async def other() -> None:
        group_commit.set_key("other")
        await gate.wait()
        seen["other before"] = await _names(db)  # it wrote nothing: the readers, committed rows
        async with db.write() as conn:
            await conn.execute(t.actors.insert().values(**_values("o")))

    async with db.group_commit():
        await asyncio.gather(writer(), other())
    assert seen["writer"] in (["w"], ["o", "w"])
    assert seen["other before"] == []
    assert await _names(db) == ["o", "w"]


def _emitting_adder(db: Database, hub: EventHub) -> Any:
    """A task body that writes a row and tells ``hub`` of it once committed."""

    async def add(name: str) -> None:
        group_commit.set_key(name)
        async with db.write() as conn:
            await conn.execute(t.actors.insert().values(**_values(name)))
            ev = await hub.emit(conn, "thing", name=name)
        await hub.committed(ev)

    return add


async def test_after_commit_work_waits_for_the_commit(db: Database) -> None:
    hub = EventHub()
    told: list[tuple[str, list[str]]] = []

    async def listener(ev: Any) -> None:
        told.append((ev.data["name"], await _names(db)))

    hub.after_commit("thing", listener)

    add = _emitting_adder(db, hub)

    async with db.group_commit():
        await asyncio.gather(add("a"), add("b"), add("c"))
    assert sorted(name for name, _ in told) == ["a", "b", "c"]
    for name, names in told:  # each listener ran after its row was committed
        assert name in names


async def test_a_failed_commit_names_what_it_lost_and_tells_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = EventHub()
    told: list[str] = []

    async def listener(ev: Any) -> None:
        told.append(ev.data["name"])

    hub.after_commit("thing", listener)

    async def failing_commit(self: Any) -> None:
        await self.rollback()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(group_commit.SyncTransaction, "commit", failing_commit)
    monkeypatch.setattr(group_commit.AsyncTransaction, "commit", failing_commit)

    add = _emitting_adder(db, hub)

    scope = db.group_commit()
    with contextlib.suppress(OSError):  # the commit fails in a block, a timer, or at the end
        async with scope:
            await asyncio.gather(add("a"), add("b"), return_exceptions=True)
    assert scope.lost == {"a", "b"} and isinstance(scope.failure, OSError)
    assert told == []
    monkeypatch.undo()
    assert await _names(db) == []
    await db.write(lambda c: c.execute(t.actors.insert().values(**_values("after"))))
    assert await _names(db) == ["after"]  # the write lock and the connection were given back


async def test_outside_a_scope_nothing_changes(db: Database) -> None:
    async with db.group_commit():
        pass
    assert group_commit.current(db) is None
    async with db.write() as conn:
        await conn.execute(t.actors.insert().values(**_values("plain")))
    assert await _names(db) == ["plain"]
