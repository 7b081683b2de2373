"""The demo's partner community as this instance knows it: its roadmap with support counts, a
member's support and follow, and her idea that the partner put on its roadmap."""

import pytest
from aiohttp.test_utils import TestClient, TestServer
from bs4 import BeautifulSoup

from server.app import create_app
from server.config import load_settings
from server.demo import DEMO_PASSWORD, load_demo
from tests.conftest import free_port, web_login

PAGE = "/c/rivers@koers.waterschap.example"


@pytest.mark.slow
async def test_demo_remote_roadmap_and_ideas(tmp_path):
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-remote-roadmap-secret",
        port=port,
    )
    await load_demo(settings, lambda _m: None)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        visitor = await (await client.get(PAGE + "/roadmap")).text()
        done = (
            BeautifulSoup(visitor, "html.parser")
            .find("section", attrs={"aria-labelledby": "col-done"})
            .get_text()
        )
        assert "Volunteer river clean-up" in done and "12 supports" in done
        assert "Shared sensor budget" not in visitor  # for the community's members only
        await web_login(client, "anouk", DEMO_PASSWORD)
        member = await (await client.get(PAGE + "/roadmap")).text()
        assert (
            "Shared sensor budget" in member
            and "Withdraw my support" in member
            and "Unfollow" in member
        )
        ideas = await (await client.get(PAGE + "/ideas")).text()
        assert "Rain gardens on the campus" in ideas and "on the roadmap" in ideas
    finally:
        await client.close()
