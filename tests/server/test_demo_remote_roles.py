"""The demo's partner community's roles: a partner's warden whose term has passed, anouk holding an
open role, and her claim of an approval role waiting for the partner."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.config import load_settings
from server.demo import DEMO_PASSWORD, load_demo
from tests.conftest import free_port, web_login

PAGE = "/c/rivers@koers.waterschap.example/roles"


@pytest.mark.slow
async def test_demo_remote_roles(tmp_path):
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-remote-roles-secret",
        port=port,
    )
    await load_demo(settings, lambda _m: None)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        visitor = await (await client.get(PAGE)).text()
        assert "River warden" in visitor and "@femke@koers.waterschap.example" in visitor
        assert "up for reconsideration" in visitor and "water management (expert)" in visitor
        await web_login(client, "anouk", DEMO_PASSWORD)
        member = await (await client.get(PAGE)).text()
        assert "You hold this role." in member and "Your claim is waiting for an answer" in member
    finally:
        await client.close()
