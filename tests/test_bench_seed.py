"""The benchmark seeder writes a data directory Koers serves: tiny sizes, real pages and API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.seed import BENCH_PASSWORD, seed
from bench.store import Store
from server.app import create_app
from server.config import load_settings
from tests.api.conftest import api_token
from tests.conftest import free_port, web_login

# It serves the seeded directory with a real test server: part of the slow layer.
pytestmark = pytest.mark.slow


async def test_seeded_directory_is_served(
    tmp_path: Path, new_database_url: Callable[[], Awaitable[str]]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = await new_database_url()
    made = await seed(
        tmp_path / "data",
        accounts_n=120,
        statuses=600,
        follows=20,
        database_url=database_url,
        url=url,
        quiet=True,
    )
    assert made["accounts"] == {"local": 30, "remote": 100, "hosts": 50}
    assert made["bench_remote_followers"] == 100 and made["replies"] > 0 and made["boosts"] > 0

    db = await Store.open(database_url, str(tmp_path / "data"))
    try:
        assert await db.value("SELECT count(*) FROM posts") == 600
        audiences = {a for (a,) in await db.rows("SELECT DISTINCT audience FROM posts")}
        assert {"public", "unlisted", "followers", "community", "direct"} <= audiences
        replies = await db.value("SELECT count(*) FROM posts WHERE in_reply_to_id IS NOT NULL")
        assert replies == made["replies"]
        assert await db.value("SELECT sum(replies_count) FROM posts") == replies
        hosts = await db.value(
            "SELECT count(DISTINCT a.domain) FROM follows f JOIN actors a ON a.id = f.follower_id"
            " JOIN actors b ON b.id = f.target_id WHERE b.username = 'bench' AND b.domain IS NULL"
        )
        assert hosts == 20
    finally:
        await db.close()

    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=url,
        data_dir=str(tmp_path / "data"),
        database_url=database_url,
        port=port,
        run_workers=False,
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    async with TestClient(server) as client:
        for path in ("/@bench", f"/@{made['profile']}", f"/c/{made['community']}"):
            assert (await client.get(path)).status == 200, path
        bench = SimpleNamespace(client=client)
        token = await api_token(bench, "bench", "read", BENCH_PASSWORD)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {token}"}
        resp = await client.get("/api/v1/timelines/home?limit=40", headers=headers)
        assert resp.status == 200
        assert len(await resp.json()) == 40
        me = await (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).json()
        assert me["followers_count"] == 100
        assert me["following_count"] == 20 + made["bench_communities"]
        await web_login(client, "bench", BENCH_PASSWORD)
        home = await client.get("/home")
        assert home.status == 200 and "/@" in await home.text()
