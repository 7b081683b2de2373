"""OAuth 2: app registration, the grants, PKCE, the consent page, revocation, scopes."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

from tests.api.conftest import api_token
from tests.conftest import PASSWORD, csrf_from

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def _app(client, redirect=OOB, scopes="read write follow"):  # type: ignore[no-untyped-def]
    resp = await client.post(
        "/api/v1/apps",
        json={
            "client_name": "App",
            "redirect_uris": redirect,
            "scopes": scopes,
            "website": "https://app.example",
        },
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_register_app_returns_mastodon_application(instance):
    app = await _app(instance.client, redirect=f"{OOB}\nhttps://app.example/cb")
    assert app["name"] == "App" and app["client_id"] and app["client_secret"]
    assert app["redirect_uris"] == [OOB, "https://app.example/cb"]
    assert app["scopes"] == ["read", "write", "follow"] and isinstance(app["id"], str)


async def test_register_app_rejects_bad_input(instance):
    c = instance.client
    for data in (
        {"redirect_uris": OOB},
        {"client_name": "x", "redirect_uris": "not a uri"},
        {"client_name": "x", "redirect_uris": OOB, "scopes": "read sudo"},
    ):
        resp = await c.post("/api/v1/apps", data=data)
        assert resp.status == 422, data
        assert "error" in await resp.json()


async def test_password_grant_and_token_checks(instance):
    await instance.create_member("alice")
    token = await api_token(instance, "alice", "read")
    c = instance.client
    resp = await c.get(
        "/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 200 and (await resp.json())["name"] == "t"
    # wrong token: 401 with WWW-Authenticate and a JSON error
    resp = await c.get("/api/v1/apps/verify_credentials", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401 and "WWW-Authenticate" in resp.headers
    assert (await resp.json())["error"]
    # wrong password
    app = await _app(c)
    resp = await c.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": "wrong",
        },
    )
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_grant"
    # wrong secret
    resp = await c.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": "x",
        },
    )
    assert resp.status == 401 and (await resp.json())["error"] == "invalid_client"
    # client_secret_basic works, and broken Basic credentials are a 401, not a crash
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    resp = await c.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert resp.status == 200 and (await resp.json())["scope"] == "read"
    resp = await c.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic a"},
    )
    assert resp.status == 401


async def test_password_grant_can_be_switched_off(make_instance):
    inst = await make_instance(password_grant=False)
    await inst.create_member("alice")
    app = await _app(inst.client)
    resp = await inst.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": PASSWORD,
        },
    )
    assert resp.status == 400 and (await resp.json())["error"] == "unsupported_grant_type"
    meta = await (await inst.client.get("/.well-known/oauth-authorization-server")).json()
    assert "password" not in meta["grant_types_supported"]


async def test_revoked_token_is_refused(instance):
    await instance.create_member("alice")
    c = instance.client
    app = await _app(c)
    tok = await (
        await c.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": "alice",
                "password": PASSWORD,
            },
        )
    ).json()
    h = {"Authorization": f"Bearer {tok['access_token']}"}
    assert (await c.get("/api/v1/apps/verify_credentials", headers=h)).status == 200
    # the refresh token gives a new token and retires the old pair
    resp = await c.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "refresh_token": tok["refresh_token"],
        },
    )
    assert resp.status == 200
    new = (await resp.json())["access_token"]
    h2 = {"Authorization": f"Bearer {new}"}
    assert (await c.get("/api/v1/apps/verify_credentials", headers=h)).status == 401
    assert (await c.get("/api/v1/apps/verify_credentials", headers=h2)).status == 200
    resp = await c.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": new},
    )
    assert resp.status == 200
    assert (await c.get("/api/v1/apps/verify_credentials", headers=h2)).status == 401


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


async def test_authorization_code_with_pkce_through_consent_page(instance):
    await instance.create_member("alice")
    app = await _app(instance.client, redirect="https://app.example/cb")
    browser = await instance.new_client()
    verifier = "v" * 50
    q = {
        "client_id": app["client_id"],
        "redirect_uri": "https://app.example/cb",
        "response_type": "code",
        "scope": "read write",
        "state": "xyz",
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        "force_login": "False",
        "lang": "None",
    }
    page = await browser.get("/oauth/authorize/", params=q)
    html = await page.text()
    assert (
        page.status == 200 and 'name="password"' in html
    )  # not logged in: the page asks to log in
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    resp = await browser.post(
        "/oauth/authorize",
        data={**form, "_csrf": csrf_from(html), "login": "alice", "password": PASSWORD},
    )
    html = await resp.text()
    assert resp.status == 200 and "@alice" in html and "Authorize" in html
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    resp = await browser.post(
        "/oauth/authorize", data={**form, "decision": "approve"}, allow_redirects=False
    )
    assert resp.status == 302
    loc = urlsplit(resp.headers["Location"])
    assert loc.netloc == "app.example"
    got = parse_qs(loc.query)
    assert got["state"] == ["xyz"]
    code = got["code"][0]
    base = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code": code,
        "redirect_uri": "https://app.example/cb",
    }
    bad = await instance.client.post("/oauth/token", data={**base, "code_verifier": "w" * 50})
    assert bad.status == 400 and (await bad.json())["error"] == "invalid_grant"
    # the code was spent by the failed attempt: single use
    again = await instance.client.post("/oauth/token", data={**base, "code_verifier": verifier})
    assert again.status == 400


async def test_authorization_code_oob_shows_code(instance):
    await instance.create_member("alice")
    app = await _app(instance.client)
    browser = await instance.login("alice")
    q = {
        "client_id": app["client_id"],
        "redirect_uri": OOB,
        "response_type": "code",
        "scope": "read",
    }
    page = await browser.get("/oauth/authorize", params=q)
    html = await page.text()
    assert 'name="password"' not in html  # logged in on the web: consent only
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    resp = await browser.post("/oauth/authorize", data={**form, "decision": "approve"})
    code = re.search(r'id="oauth-code" size="50"', await resp.text()) and re.search(
        r'readonly value="([^"]+)"', await resp.text()
    ).group(1)
    tok = await instance.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": OOB,
        },
    )
    body = await tok.json()
    assert tok.status == 200 and body["scope"] == "read"
    # a read-only token cannot post
    resp = await instance.client.post(
        "/api/v1/apps/verify_credentials",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert resp.status in (404, 405)


async def test_unknown_client_on_authorize_is_shown_not_redirected(instance):
    resp = await instance.client.get(
        "/oauth/authorize", params={"client_id": "nope", "redirect_uri": OOB}, allow_redirects=False
    )
    assert resp.status == 422


async def test_metadata_and_cors(instance):
    c = instance.client
    meta = await (await c.get("/.well-known/oauth-authorization-server")).json()
    assert meta["token_endpoint"] == f"{instance.url}/oauth/token"
    assert "S256" in meta["code_challenge_methods_supported"]
    resp = await c.options(
        "/api/v1/apps",
        headers={"Origin": "https://elk.zone", "Access-Control-Request-Method": "POST"},
    )
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = await c.get("/api/v1/apps/verify_credentials")
    assert resp.status == 401 and resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-RateLimit-Remaining" in resp.headers
