"""Rate limits enforced (issue 11, finding 7): Mastodon's budgets, truthful headers, 429."""

from __future__ import annotations

import calendar
import time

import pytest

from server.config import load_settings
from server.errors import ConfigError
from server.http.rate_limit import LOGIN, Counter, Rule
from tests.api.conftest import api_token


def test_a_counter_counts_in_fixed_windows() -> None:
    counter = Counter(Rule("t", 2, 60))
    first = counter.hit("k", 120)
    assert (first.limit, first.remaining, first.reset, first.exceeded) == (2, 1, 180, False)
    assert counter.hit("k", 150).remaining == 0
    assert counter.hit("k", 179).exceeded
    assert counter.hit("other", 179).remaining == 1  # every key has its own budget
    assert counter.hit("k", 180) == first.__class__(2, 1, 240, False)  # a new window


def test_the_settings_are_read_and_checked() -> None:
    s = load_settings(env={"KOERS_RATE_LIMIT_REQUESTS": "50", "KOERS_RATE_LIMIT_LOOPBACK": "off"})
    assert s.rate_limit and s.rate_limit_requests == 50 and not s.rate_limit_loopback
    assert load_settings(env={}).rate_limit_requests == 300
    with pytest.raises(ConfigError, match="KOERS_RATE_LIMIT_WINDOW must be greater than 0"):
        load_settings(env={"KOERS_RATE_LIMIT_WINDOW": "0"})


def _reset(value: str) -> int:
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%S.000Z"))


async def test_anonymous_requests_are_limited_per_address(make_instance) -> None:
    inst = await make_instance(rate_limit_loopback=True, rate_limit_requests=5)
    await inst.create_member("ana")
    token = await api_token(inst, "ana")  # registers an app: one anonymous API request
    c = inst.client
    remaining = []
    for _ in range(4):
        resp = await c.get("/api/v1/instance")
        assert resp.status == 200
        assert resp.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
    assert remaining == [3, 2, 1, 0]
    refused = await c.get("/api/v1/timelines/public")
    assert refused.status == 429
    assert (await refused.json()) == {"error": "Too many requests"}
    retry = int(refused.headers["Retry-After"])
    reset = _reset(refused.headers["X-RateLimit-Reset"])
    assert 0 < retry <= 300 and abs(reset - (time.time() + retry)) <= 2
    # pages are not API requests
    assert (await c.get("/about")).status != 429
    # a token has its own budget, apart from the address
    auth = {"Authorization": f"Bearer {token}"}
    resp = await c.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert resp.status == 200 and resp.headers["X-RateLimit-Remaining"] == "4"


async def test_loopback_is_exempt_only_when_the_operator_says_so(make_instance) -> None:
    inst = await make_instance(rate_limit_requests=2)  # the test suite's setting: loopback exempt
    for _ in range(4):
        resp = await inst.client.get("/api/v1/instance")
        assert resp.status == 200
    assert resp.headers["X-RateLimit-Remaining"] == "0"  # still counted, never refused
    # behind a proxy on loopback, the forwarded address is the client and it is limited
    for _ in range(2):
        hop = {"X-Forwarded-For": "198.51.100.4"}
        assert (await inst.client.get("/api/v1/instance", headers=hop)).status == 200
    assert (await inst.client.get("/api/v1/instance", headers=hop)).status == 429
    other = {"X-Forwarded-For": "198.51.100.5, 127.0.0.1"}
    assert (await inst.client.get("/api/v1/instance", headers=other)).status == 200
    off = await make_instance(rate_limit=False, rate_limit_loopback=True, rate_limit_requests=1)
    for _ in range(3):
        assert (await off.client.get("/api/v1/instance")).status == 200


async def test_logins_have_a_stricter_budget(make_instance) -> None:
    inst = await make_instance(rate_limit_loopback=True)
    c = await inst.new_client()
    for _ in range(LOGIN.limit):
        resp = await c.post("/oauth/token", data={"grant_type": "password"})
        assert resp.status != 429
    refused = await c.post("/oauth/token", data={"grant_type": "password"})
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    page = await c.post("/login", data={"login": "ana", "password": "x"})
    assert page.status == 429 and "text/html" in page.headers["Content-Type"]
