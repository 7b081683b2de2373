"""Fixtures of the services' tests: two members, ``ana`` and ``bo``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from server.services import accounts

Maker = Callable[..., Awaitable[accounts.Account]]


@pytest.fixture
async def ana(make_member: Maker) -> accounts.Account:
    return await make_member("ana")


@pytest.fixture
async def bo(make_member: Maker) -> accounts.Account:
    return await make_member("bo")
