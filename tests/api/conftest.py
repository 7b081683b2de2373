"""Fixtures for the client API tests: registered apps and tokens, and Mastodon.py clients."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from mastodon import Mastodon

from tests.conftest import PASSWORD, Instance


async def in_thread(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a synchronous client call (Mastodon.py, toot) in a worker thread while the server serves."""
    return await asyncio.to_thread(fn, *args, **kw)


async def mastodon_for(
    instance: Instance, username: str, scopes: tuple[str, ...] = ("read", "write", "follow")
) -> Mastodon:
    """A Mastodon.py client logged in as ``username`` by the password grant."""

    def login() -> Mastodon:
        client_id, client_secret = Mastodon.create_app(
            "koers-tests", scopes=list(scopes), api_base_url=instance.url
        )
        m = Mastodon(
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=instance.url,
            version_check_mode="none",
        )
        m.log_in(username, PASSWORD, scopes=list(scopes), allow_http=True)
        return m

    return await in_thread(login)


@pytest.fixture
def masto() -> Callable[[Instance, str], Awaitable[Mastodon]]:
    return mastodon_for


async def api_token(
    instance: Instance, username: str, scopes: str = "read write follow", password: str = PASSWORD
) -> str:
    """A raw bearer token by the password grant, over HTTP."""
    c = instance.client
    app = await (
        await c.post(
            "/api/v1/apps",
            data={
                "client_name": "t",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": scopes,
            },
        )
    ).json()
    resp = await c.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": password,
            "scope": scopes,
        },
    )
    body = await resp.json()
    assert resp.status == 200, body
    return body["access_token"]
