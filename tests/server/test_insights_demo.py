"""``koers demo``: the Energy Transition Lab's insights name daan, a neighbour without a role, as
its informal leader, and lotte (a manager) sees him on the insights page."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.config import load_settings
from server.demo import DEMO_PASSWORD, load_demo
from tests.conftest import free_port, web_login


@pytest.mark.slow
async def test_demo_has_a_clear_informal_leader(tmp_path) -> None:
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-test-secret",
        port=port,
    )
    await load_demo(settings, lambda _: None)
    app = create_app(settings)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        await web_login(client, "lotte", DEMO_PASSWORD)
        resp = await client.get("/c/energy/insights")
        html = await resp.text()
        assert resp.status == 200, html
        informal = (
            html.split('id="leaders"')[1].split('id="quiet"')[0].split("Leading and holding")[0]
        )
        assert "@daan" in informal and "Catalyst" in informal
        for other in ("lotte", "samir", "joris", "mei", "anouk"):
            assert f"@{other}" not in informal
        await web_login(client, "daan", DEMO_PASSWORD)
        mine = await (await client.get("/c/energy/insights/me")).text()
        assert "your profile is <strong>Catalyst</strong>" in mine
