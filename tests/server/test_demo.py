"""``koers demo`` data: created once through the services, idempotent, and the pages render it."""

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.config import load_settings
from server.demo import DEMO_PASSWORD, PEOPLE, load_demo
from server.storage import schema as t
from server.storage.db import Database
from tests.conftest import free_port, web_login


@pytest.mark.slow
async def test_demo_loads_once_and_pages_render(tmp_path, backend, new_database_url):
    port = free_port()
    # SQLite: the default file inside the data directory, as ``koers demo`` uses it.
    database_url = await new_database_url() if backend == "postgresql" else None
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        database_url=database_url,
        secret="demo-test-secret",
        port=port,
    )
    messages: list[str] = []
    logins = await load_demo(settings, messages.append)
    assert logins[0] == "lotte" and len(logins) == len(PEOPLE) and messages

    db = Database(settings.database_url)
    try:
        async with db.read() as conn:

            async def count(table, *where):
                return (
                    await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))
                ).scalar()

            assert await count(t.communities, t.communities.c.local.is_(True)) == 3
            audiences = set(
                (await conn.execute(sa.select(t.posts.c.audience).distinct())).scalars()
            )
            assert audiences == {
                "public",
                "unlisted",
                "followers",
                "community",
                "members",
                "partners",
                "direct",
            }
            statuses = set(
                (await conn.execute(sa.select(t.roadmap_items.c.status).distinct())).scalars()
            )
            assert statuses == {"idea", "planned", "in_progress", "done", "dropped"}
            assert set(
                (await conn.execute(sa.select(t.roles.c.fill_mode).distinct())).scalars()
            ) == {"open", "approval", "assigned"}
            assert await count(t.role_holders, t.role_holders.c.state == "requested") >= 1
            assert (
                await count(
                    t.purpose_versions,
                    t.purpose_versions.c.version == 2,
                    t.purpose_versions.c.community_id.in_(
                        sa.select(t.communities.c.id).where(t.communities.c.local.is_(True))
                    ),
                )
                == 1
            )
            assert (
                await count(
                    t.posts, t.posts.c.kind == "result", t.posts.c.roadmap_item_id.is_not(None)
                )
                >= 2
            )
            assert await count(t.result_roles) >= 3
            assert await count(t.competencies) >= 16
            pending = list(
                await conn.execute(
                    sa.select(t.actors.c.kind)
                    .join(t.follows, t.follows.c.target_id == t.actors.c.id)
                    .where(t.follows.c.state == "pending")
                )
            )
            assert {r.kind for r in pending} == {"person", "group"}
            posts_before = await count(t.posts)
    finally:
        await db.close()

    again: list[str] = []
    assert await load_demo(settings, again.append) == logins
    assert "demo data already present" in again
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(t.posts))
            ).scalar() == posts_before
    finally:
        await db.close()

    app = create_app(settings)
    client = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    try:
        front = await client.get("/")
        html = await front.text()
        assert (
            front.status == 200 and "Energy Transition Lab" in html and "LED retrofit done" in html
        )
        page = await client.get("/c/energy")
        html = await page.text()
        assert page.status == 200
        assert "share what we learn openly" in html and "Version 2" in html
        assert "Dashboard beta" not in html  # a community-only result stays hidden from visitors
        assert "from In progress to Done" in html
        for path in (
            "/c/energy/roadmap",
            "/c/energy/purpose",
            "/c/energy/results",
            "/communities",
            "/feeds/results.atom",
            "/c/circular_kitchen",
            "/c/mentoring",
        ):
            assert (await client.get(path)).status == 200, path
        await web_login(client, "lotte", DEMO_PASSWORD)
        html = await (await client.get("/c/energy")).text()
        assert "Dashboard beta" in html and "Manage the community" in html
    finally:
        await client.close()
