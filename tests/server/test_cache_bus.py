"""Caches of hot rows across processes: on PostgreSQL, a change committed by another process (a
second web process, a ``koers worker``) empties this process's caches of the tables it wrote,
carried by the event bus, long before any cache's time limit."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.keys import CTX
from server.services import accounts, hot_rows, oauth
from server.storage import caches
from server.storage import schema as t
from server.storage.caches import watch_of
from server.stream_bus import BUS
from tests.api.conftest import api_token
from tests.conftest import Instance


async def _status(instance: Instance, token: str) -> int:
    resp = await instance.client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    await resp.read()
    return resp.status


async def _eventually(check, seconds: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_suspension_in_another_process_is_seen_here(instance: Instance) -> None:
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL only: the bus runs there (SQLite processes rely on the time limit)")
    ann = await instance.create_member("ann")
    token = await api_token(instance, "ann")
    # The other process: the same database under another host name, so that nothing in this
    # Python process links the two apps' caches; only the bus can tell this one.
    url = instance.settings.database_url.replace("127.0.0.1", "localhost")
    assert url != instance.settings.database_url
    other = create_app(dataclasses.replace(instance.settings, database_url=url))
    server = TestServer(other, host="127.0.0.1")
    await server.start_server()
    try:
        here, there = instance.db.engine.sync_engine, other[CTX].db.engine.sync_engine
        assert watch_of(here) is not watch_of(there)
        assert instance.app[BUS].listening.is_set() and other[BUS].listening.is_set()
        assert hot_rows.TTL >= 10  # so only the bus can explain what follows

        assert await _status(instance, token) == 200  # the token and ann are cached here now
        assert await accounts.cached_user(instance.db, ann.user_id) is not None
        assert hot_rows.tokens(here).get(oauth.hash_secret(token)) is not None

        async with other[CTX].db.write() as conn:  # suspended by the other process
            await conn.execute(
                t.actors.update().where(t.actors.c.id == ann.actor_id).values(suspended=True)
            )

        async def refused() -> bool:
            return await _status(instance, token) == 401

        async def suspended_here() -> bool:
            row = await accounts.cached_user(instance.db, ann.user_id)
            return row is not None and bool(row.suspended)

        assert await _eventually(refused), "the suspended member's token still works here"
        assert await _eventually(suspended_here)
    finally:
        await server.close()


async def test_without_the_bus_the_cache_keeps_the_row_until_told(instance: Instance) -> None:
    """The control: the same change written where no watch and no bus sees it stays unseen
    here (so the test above measures the bus, not a cache that never hits)."""
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    ann = await instance.create_member("ann")
    token = await api_token(instance, "ann")
    assert await _status(instance, token) == 200
    url = instance.settings.database_url.replace("127.0.0.1", "localhost")
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)  # no app, no bus: like a script writing to the database
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(t.actors).where(t.actors.c.id == ann.actor_id).values(suspended=True)
            )
    finally:
        await engine.dispose()
    await asyncio.sleep(0.3)
    assert await _status(instance, token) == 200  # cached: seen only after hot_rows.TTL


async def test_a_status_changed_in_another_process_is_rendered_anew_here(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cached part of status JSON (``api/status_cache.py``): the author's new name and a
    post's new text, written by another process without touching ``edited_at`` (so only the
    bus can explain it), show here long before the cache's time limit."""
    if instance.db.is_sqlite:
        pytest.skip("PostgreSQL only: the bus runs there (SQLite processes rely on the time limit)")
    # the status is read right after it is posted: nothing may be dropped by the caches' settle
    # window after a commit (for readers racing one), or the first read would not be kept
    monkeypatch.setattr(caches, "SETTLE_SECONDS", 0.0)
    ann = await instance.create_member("ann")
    token = await api_token(instance, "ann")
    bearer = {"Authorization": f"Bearer {token}"}
    resp = await instance.client.post(
        "/api/v1/statuses", data={"status": "before", "visibility": "public"}, headers=bearer
    )
    post_id = int((await resp.json())["id"])

    async def status() -> dict:
        got = await instance.client.get(f"/api/v1/statuses/{post_id}", headers=bearer)
        assert got.status == 200
        return await got.json()

    url = instance.settings.database_url.replace("127.0.0.1", "localhost")
    other = create_app(dataclasses.replace(instance.settings, database_url=url))
    server = TestServer(other, host="127.0.0.1")
    await server.start_server()
    try:
        here = instance.db.engine.sync_engine
        assert "before" in (await status())["content"]
        assert hot_rows.statuses(here).get((post_id, instance.settings.url)) is not None
        async with other[CTX].db.write() as conn:
            await conn.execute(
                t.posts.update().where(t.posts.c.id == post_id).values(content_html="<p>after</p>")
            )
            await conn.execute(
                t.actors.update().where(t.actors.c.id == ann.actor_id).values(display_name="Ann B")
            )

        async def renewed() -> bool:
            shown = await status()
            return "after" in shown["content"] and shown["account"]["display_name"] == "Ann B"

        assert await _eventually(renewed), "the cached status still shows the old text and name"
    finally:
        await server.close()
