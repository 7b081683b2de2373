"""The demo's role term that has run out and its initiative with a lead and participants."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.config import load_settings
from server.demo import load_demo
from tests.conftest import free_port


@pytest.mark.slow
async def test_demo_terms_and_initiatives(tmp_path):
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-terms-secret",
        port=port,
        run_workers=False,
    )
    await load_demo(settings, lambda _m: None)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        page = await (await client.get("/c/energy")).text()
        assert "Repair café for office equipment" in page and "2 taking part" in page
        assert "Up for reconsideration" in page and "Event host" in page
    finally:
        await client.close()
