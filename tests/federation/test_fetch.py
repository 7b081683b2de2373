"""The fetcher: SSRF guard, size and redirect limits, signed GETs, cache."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.errors import FetchError
from federation.fetch import MAX_BODY, Fetcher, is_forbidden_address
from federation.signatures import parse_signature_header
from server.config import load_settings

FORBIDDEN = [
    "10.1.2.3",
    "169.254.169.254",
    "::1",
    "127.0.0.1",
    "0.0.0.0",
    "192.168.1.1",
    "172.16.0.1",
    "224.0.0.1",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "100.64.0.1",
]


def fetcher(allow_private: bool) -> Fetcher:
    return Fetcher(
        load_settings(env={}, allow_private_addresses=allow_private, url="https://koers.example")
    )


class NoNetwork(Fetcher):
    @property
    def session(self):  # type: ignore[no-untyped-def]
        raise AssertionError("a refused address must not be connected to")


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(address)


@pytest.mark.parametrize("host", ["10.0.0.7", "169.254.169.254", "[::1]", "localhost"])
async def test_private_hosts_refused_before_any_connection(host: str) -> None:
    f = NoNetwork(load_settings(env={}, allow_private_addresses=False, url="https://koers.example"))
    with pytest.raises(FetchError) as err:
        await f.fetch_json(f"http://{host}/users/x")
    assert err.value.reason == "private_address"
    with pytest.raises(FetchError) as err:
        await f.post_signed(f"http://{host}/inbox", b"{}", "k", "pem")
    assert err.value.reason == "private_address"


async def test_non_http_urls_refused() -> None:
    f = NoNetwork(load_settings(env={}, url="https://koers.example"))
    for url in ("file:///etc/passwd", "ftp://example.org/x", "http:///nohost"):
        with pytest.raises(FetchError) as err:
            await f.fetch_json(url)
        assert err.value.reason == "bad_url"


async def test_loopback_instance_refused_unless_allowed(instance) -> None:
    strict = fetcher(False)
    try:
        with pytest.raises(FetchError) as err:
            await strict.fetch_json(instance.url + "/actor")
        assert err.value.reason == "private_address"
    finally:
        await strict.close()
    relaxed = fetcher(True)
    try:
        doc = await relaxed.fetch_json(instance.url + "/actor")
        assert doc["type"] == "Organization"
    finally:
        await relaxed.close()


@pytest.fixture
async def peer():  # type: ignore[no-untyped-def]
    """A small test server: big bodies, redirect chains, and a record of request headers."""
    seen: list[dict[str, str]] = []

    async def big(_r: web.Request) -> web.Response:
        return web.Response(
            body=b"[" + b"1," * (MAX_BODY // 2) + b"1]", content_type="application/json"
        )

    async def hop(r: web.Request) -> web.Response:
        n = int(r.match_info["n"])
        if n == 0:
            seen.append(dict(r.headers))
            return web.json_response({"id": "done", "type": "Note"})
        raise web.HTTPFound(f"/hop/{n - 1}")

    app = web.Application()
    app.router.add_get("/big", big)
    app.router.add_get("/hop/{n}", hop)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, seen
    await server.close()


@pytest.mark.slow  # ``peer`` serves HTTP
async def test_size_and_redirect_limits(peer) -> None:
    server, seen = peer
    base = str(server.make_url("")).rstrip("/")
    f = fetcher(True)
    try:
        with pytest.raises(FetchError) as err:
            await f.fetch_json(base + "/big")
        assert err.value.reason == "too_large"
        assert (await f.fetch_json(base + "/hop/3"))["id"] == "done"
        with pytest.raises(FetchError) as err:
            await f.fetch_json(base + "/hop/4")
        assert err.value.reason == "redirects"
    finally:
        await f.close()


@pytest.mark.slow  # ``peer`` serves HTTP
async def test_signed_get_and_cache(peer) -> None:
    from server.services.keys import generate_key_pair

    server, seen = peer
    base = str(server.make_url("")).rstrip("/")
    private, _public = generate_key_pair()
    f = fetcher(True)
    try:
        await f.fetch_json(
            base + "/hop/0", key_id="https://koers.example/actor#main-key", private_key_pem=private
        )
        assert len(seen) == 1
        params = parse_signature_header(seen[0]["Signature"])
        assert params["keyId"] == "https://koers.example/actor#main-key"
        assert params["headers"] == "(request-target) host date"
        await f.fetch_json(base + "/hop/0")  # cached
        assert len(seen) == 1
        await f.fetch_json(base + "/hop/0", max_age=0)  # refetched, and dropped from the cache
        assert len(seen) == 2
        await f.fetch_json(base + "/hop/0")
        assert len(seen) == 3
    finally:
        await f.close()


@pytest.mark.slow  # ``peer`` serves HTTP
async def test_connection_time_resolver_guard(peer) -> None:
    from federation.fetch import _GuardedResolver

    strict = _GuardedResolver(False)
    with pytest.raises(FetchError) as err:
        await strict.resolve("localhost", 80)
    assert err.value.reason == "private_address"
    await strict.close()
    # With private addresses allowed, names go through the guarded resolver and connect.
    server, _seen = peer
    f = fetcher(True)
    try:
        assert (await f.fetch_json(f"http://localhost:{server.port}/hop/0"))["id"] == "done"
    finally:
        await f.close()


async def test_a_delivery_post_checks_each_host_once_per_ttl_and_never_remembers_a_refusal(
    monkeypatch,
) -> None:
    from federation import fetch

    checked: list[str] = []

    async def check(url: str, *, allow_private: bool) -> None:
        checked.append(url)
        if "refused" in url:
            raise FetchError("private_address", url)

    async def post(_self, url, body, headers):  # type: ignore[no-untyped-def]
        return 202, {}

    clock = {"now": 1000.0}
    monkeypatch.setattr(fetch, "check_url", check)
    monkeypatch.setattr(fetch.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(Fetcher, "_post", post)
    f = fetcher(False)
    for path in ("/inbox", "/users/a/inbox", "/inbox"):
        assert (await f.post_presigned("https://a.example" + path, b"{}", {}))[0] == 202
    await f.post_presigned("https://A.example:443/inbox", b"{}", {})  # another netloc: checked
    await f.post_presigned("http://a.example/inbox", b"{}", {})  # another scheme: checked
    assert len(checked) == 3
    clock["now"] += fetch.CHECKED_TTL  # the check has expired: done again
    await f.post_presigned("https://a.example/inbox", b"{}", {})
    assert len(checked) == 4
    for _ in range(2):  # a refusal is checked (and refused) every time
        with pytest.raises(FetchError) as err:
            await f.post_presigned("https://refused.example/inbox", b"{}", {})
        assert err.value.reason == "private_address"
    assert len(checked) == 6
