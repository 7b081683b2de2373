"""A community's purpose without a server: versions kept, who may change it, why it changed,
and every member asked to endorse the new text."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Forbidden, NotFound, ValidationError
from server.services import purpose
from server.storage import schema as t
from tests.fast import record_events


async def _asked(db, actor_id):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return [
            r.extra
            for r in await conn.execute(
                sa.select(t.notifications.c.extra).where(
                    t.notifications.c.actor_id == actor_id,
                    t.notifications.c.type == "koers.endorse_requested",
                )
            )
        ]


async def test_a_manager_changes_the_purpose_and_every_version_is_kept(ctx, crew) -> None:
    cid = crew.community.id
    assert (
        await purpose.change_purpose(ctx, crew.ana.actor_id, cid, "Grow *more* food", "Growth") == 2
    )
    assert (
        await purpose.change_purpose(ctx, crew.ana.actor_id, cid, "Feed the street", "Focus") == 3
    )
    async with ctx.db.read() as conn:
        now = await purpose.current(conn, cid)
        versions = await purpose.history(conn, cid)
    assert now is not None and now.version == 3 and now.reason == "Focus"
    assert [(v.version, v.text_source) for v in versions] == [
        (3, "Feed the street"),
        (2, "Grow *more* food"),
        (1, "Grow food"),
    ]
    assert "<em>more</em>" in versions[1].text_html
    assert versions[0].author_username == "ana"
    assert versions[0].uri and versions[0].uri != versions[1].uri


async def test_each_new_version_asks_every_member_to_endorse_it(ctx, crew) -> None:
    await purpose.change_purpose(ctx, crew.ana.actor_id, crew.community.id, "New text", "Why")
    for person in (crew.ana, crew.bo, crew.cy):
        assert await _asked(ctx.db, person.actor_id) == [{"version": 2}]
    assert await _asked(ctx.db, crew.dan.actor_id) == []


async def test_only_managers_change_it_with_a_reason(ctx, crew) -> None:
    cid = crew.community.id
    with pytest.raises(Forbidden):
        await purpose.change_purpose(ctx, crew.bo.actor_id, cid, "Mine now", "Because")
    for text, reason in (("  ", "Why"), ("x" * (purpose.MAX_PURPOSE + 1), "Why"), ("Ok", " ")):
        with pytest.raises(ValidationError):
            await purpose.change_purpose(ctx, crew.ana.actor_id, cid, text, reason)
    with pytest.raises(ValidationError):
        await purpose.change_purpose(
            ctx, crew.ana.actor_id, cid, "Ok", "r" * (purpose.MAX_REASON + 1)
        )
    with pytest.raises(NotFound):
        await purpose.change_purpose(ctx, crew.ana.actor_id, 999, "Ok", "Why")
    async with ctx.db.read() as conn:
        assert [v.version for v in await purpose.history(conn, cid)] == [1]


async def test_a_change_emits_purpose_changed_with_its_version(ctx, crew) -> None:
    seen = record_events(ctx, "purpose.changed")
    await purpose.change_purpose(ctx, crew.ana.actor_id, crew.community.id, "New", "Why")
    assert [(e.data["version"], e.data["actor_id"]) for e in seen] == [(2, crew.ana.actor_id)]


async def test_a_remote_version_is_kept_once(ctx, crew) -> None:
    stored = []
    for _ in range(2):
        async with ctx.db.write() as conn:
            stored.append(
                await purpose.record_remote_version(
                    conn,
                    crew.community.id,
                    5,
                    "<p>From afar</p>",
                    reason="Synced",
                    uri="https://far.example/purpose/5",
                    created_at=None,
                )
            )
    assert stored == [True, False]
    async with ctx.db.read() as conn:
        assert (await purpose.current(conn, crew.community.id)).version == 5
