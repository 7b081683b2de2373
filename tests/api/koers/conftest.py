"""Fixtures for the Koers API tests: a community with a manager, a member and an outsider, each with
a bearer token, and a small JSON client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from server.services import communities
from tests.api.conftest import api_token
from tests.conftest import Instance

API = "/api/koers/v1"


@dataclass
class Caller:
    """One member talking JSON to the Koers API with a bearer token (or none)."""

    instance: Instance
    token: str | None
    actor_id: int | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        params: dict | None = None,
    ) -> tuple[int, Any]:
        kw: dict[str, Any] = {"headers": self._headers(), "params": params}
        if raw is not None:
            kw["data"] = raw
            kw["headers"]["Content-Type"] = "application/json"
        elif body is not None:
            kw["json"] = body
        resp = await self.instance.client.request(method, API + path, **kw)
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json()

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body, **kw)

    async def put(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("PUT", path, body, **kw)


@dataclass
class World:
    instance: Instance
    community_id: int
    manager: Caller
    member: Caller
    outsider: Caller
    anonymous: Caller


@pytest.fixture
async def world(instance: Instance) -> World:
    """``ann`` manages community ``gardeners``, ``bob`` is a member, ``cy`` is not."""
    callers = {}
    for name in ("ann", "bob", "cy"):
        account = await instance.create_member(name)
        callers[name] = Caller(instance, await api_token(instance, name), account.actor_id)
    community = await communities.create_community(
        instance.ctx,
        callers["ann"].actor_id,
        handle="gardeners",
        name="Gardeners",
        purpose_text="Green every roof in town",
        description="We plant things.",
    )
    await communities.join(instance.ctx, callers["bob"].actor_id, community.id)
    return World(
        instance,
        community.id,
        callers["ann"],
        callers["bob"],
        callers["cy"],
        Caller(instance, None),
    )
