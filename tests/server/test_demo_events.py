"""``koers demo``: an upcoming event with RSVPs (and a request waiting), roadmap items with supports
and followers — shown on the pages."""

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.config import load_settings
from server.demo import load_demo
from server.storage import schema as t
from server.storage.db import Database
from tests.conftest import free_port


@pytest.mark.slow
async def test_demo_has_events_supports_and_followers(tmp_path):
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-test-secret",
        port=port,
    )
    await load_demo(settings, lambda _m: None)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            states = [r[0] for r in await conn.execute(sa.select(t.event_participants.c.state))]
            assert states.count("joined") >= 6 and "pending" in states
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(t.roadmap_supports))
            ).scalar() >= 9
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(t.roadmap_followers))
            ).scalar() >= 3
    finally:
        await db.close()
    app = create_app(settings)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        events = await (await client.get("/c/energy/events")).text()
        assert "Networking drinks" in events and "6 going of 30" in events
        assert (
            "Workshop: reading your meter data" not in events
        )  # a community event, hidden from visitors
        roadmap = await (await client.get("/c/energy/roadmap")).text()
        assert "4 supports" in roadmap
