"""The demo's idea box: supported ideas, one merged, one promoted, one declined; kudos on a result."""

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
async def test_demo_idea_box(tmp_path):
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-ideas-secret",
        port=port,
    )
    await load_demo(settings, lambda _m: None)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            statuses = sorted(
                (
                    await conn.execute(
                        sa.select(t.ideas.c.status)
                        .join(t.communities, t.communities.c.id == t.ideas.c.community_id)
                        .where(t.communities.c.local.is_(True))
                    )
                ).scalars()
            )
            kudos = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(t.posts)
                    .where(t.posts.c.content_html.contains("Kudos"))
                )
            ).scalar()
    finally:
        await db.close()
    assert statuses == ["declined", "merged", "open", "open", "promoted"] and kudos == 1
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        box = await (await client.get("/c/energy/ideas")).text()
        assert "Bike sheds with solar roofs" in box and "4 supports" in box
        assert "Swap the old fridges" not in box  # a members-only idea, hidden from visitors
        taken = await (await client.get("/c/energy/ideas?status=promoted")).text()
        assert "Close the shutters at night" in taken
    finally:
        await client.close()
