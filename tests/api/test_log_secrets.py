"""Secrets never reach the logs: a whole client session, its captured log lines grepped."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from federation.signatures import sign_request
from server import clock
from server.cli import QUIET_LOGGERS
from server.http.access_log import ACCESS_LOG, REDACTED, redact
from server.services.keys import generate_key_pair
from server.storage import schema as t
from tests.api.conftest import api_token
from tests.conftest import PASSWORD, Instance, csrf_from


def test_redact_takes_out_secret_parameters_only() -> None:
    line = (
        "GET /api/v1/streaming?stream=user&access_token=abc123&limit=5"
        "&user%5Bpassword%5D=hunter2&client_secret=s3&code=c0de;state=st"
        "&code_verifier=v3r&_csrf=cs4&passwd=pw5 HTTP/1.1"
    )
    got = redact(line)
    for secret in ("abc123", "hunter2", "s3", "c0de", "=st", "v3r", "cs4", "pw5"):
        assert secret not in got, secret
    assert "stream=user" in got and "limit=5" in got and got.count(REDACTED) == 8
    assert redact("GET /@alice?page=2 HTTP/1.1") == "GET /@alice?page=2 HTTP/1.1"


async def test_a_client_session_leaves_no_secret_in_the_logs(
    instance: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    await instance.create_member("alice")
    # The access log of ``koers serve`` for the connections opened from here on.
    assert instance.server.runner is not None and instance.server.runner.server is not None
    instance.server.runner.server._kwargs.update(ACCESS_LOG)
    caplog.set_level(logging.DEBUG)
    token = await api_token(instance, "alice")
    c = instance.client
    resp = await c.get(f"/api/v1/accounts/verify_credentials?access_token={token}")
    assert resp.status == 200
    resp = await c.get(
        "/oauth/authorize?response_type=code&client_id=nope&code=the-code-1"
        "&state=the-state-1&client_secret=the-secret-1"
    )
    assert resp.status < 500
    resp = await c.get(f"/login?password={PASSWORD}&refresh_token=the-refresh-1")
    assert resp.status < 500
    url = instance.url.replace("http://", "ws://") + f"/api/v1/streaming?access_token={token}"
    async with c.session.ws_connect(url + "&stream=public") as ws:
        await ws.send_json({"type": "subscribe", "stream": "nonsense"})
        await ws.receive_json(timeout=5)
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert any("/api/v1/streaming" in r.getMessage() for r in access), "no access log captured"
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in (token, PASSWORD, "the-code-1", "the-state-1", "the-secret-1", "the-refresh-1"):
        assert secret not in text, secret
    assert REDACTED in text


@pytest.fixture
def quiet_libraries() -> Iterator[None]:
    """The library loggers every ``koers`` command keeps at warnings (``server.cli``)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    yield
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)


async def test_a_whole_oauth_session_leaves_no_secret_in_any_log(
    instance: Instance, caplog: pytest.LogCaptureFixture, quiet_libraries: None
) -> None:
    """App, consent with a login, the code exchanged, API calls (header and query), streaming,
    the login form (right and wrong password), a signed inbox POST, revocation: then every log
    record (access log included, tracebacks included) is grepped for every secret of the session."""
    await instance.create_member("alice")
    assert instance.server.runner is not None and instance.server.runner.server is not None
    instance.server.runner.server._kwargs.update(ACCESS_LOG)
    caplog.set_level(logging.DEBUG)
    c = instance.client
    redirect = "https://app.example/cb"
    app = await (
        await c.post(
            "/api/v1/apps",
            data={"client_name": "t", "redirect_uris": redirect, "scopes": "read write"},
        )
    ).json()
    browser = await instance.new_client()
    verifier = "the-verifier-" + "v" * 40
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = {
        "client_id": app["client_id"],
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": "read write",
        "state": "the-state-2",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await browser.get("/oauth/authorize", params=query)
    html = await page.text()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    csrf = csrf_from(html)
    wrong = await browser.post(
        "/oauth/authorize",
        data={**hidden, "_csrf": csrf, "login": "alice", "password": "the-wrong-password-1"},
    )
    assert wrong.status == 403
    resp = await browser.post(
        "/oauth/authorize", data={**hidden, "_csrf": csrf, "login": "alice", "password": PASSWORD}
    )
    html = await resp.text()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    resp = await browser.post(
        "/oauth/authorize", data={**hidden, "decision": "approve"}, allow_redirects=False
    )
    assert resp.status == 302
    code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    # a client that gets it wrong first: the code and secrets in a query string
    misuse = await c.get(
        f"/oauth/token?code={code}&client_secret={app['client_secret']}"
        f"&code_verifier={verifier}&_csrf={csrf}"
    )
    assert misuse.status < 500
    got = await c.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    )
    body = await got.json()
    assert got.status == 200, body
    token = body["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await c.get("/api/v1/accounts/verify_credentials", headers=bearer)).status == 200
    assert (await c.post("/api/v1/statuses", data={"status": "hi"}, headers=bearer)).status == 200
    assert (await c.get(f"/api/v1/timelines/home?access_token={token}")).status == 200
    forged = {"Authorization": "Bearer the-forged-token-1"}
    assert (await c.get("/api/v1/accounts/verify_credentials", headers=forged)).status == 401
    url = instance.url.replace("http://", "ws://") + f"/api/v1/streaming?access_token={token}"
    async with c.session.ws_connect(url + "&stream=user") as ws:
        await ws.send_str("{not json")
        await ws.receive(timeout=5)
    login_page = await browser.get("/login")
    login_csrf = csrf_from(await login_page.text())
    for password in ("the-wrong-password-2", PASSWORD):
        await browser.post(
            "/login", data={"_csrf": login_csrf, "login": "alice", "password": password}
        )
    # a signed inbox POST from a key nobody can fetch: refused, and the signature not logged
    private_pem, _public = generate_key_pair()
    inbox_body = json.dumps(
        {
            "id": "https://nowhere.invalid/a/1",
            "type": "Follow",
            "actor": "https://nowhere.invalid/u",
            "object": f"{instance.url}/users/alice",
        }
    ).encode()
    signed = sign_request(
        "POST",
        f"{instance.url}/inbox",
        {"Content-Type": "application/activity+json"},
        inbox_body,
        "https://nowhere.invalid/u#main-key",
        private_pem,
    )
    signature = re.search(r'signature="([^"]+)"', signed["Signature"])
    assert signature is not None
    assert (await c.post("/inbox", data=inbox_body, headers=signed)).status in (401, 403)
    revoked = await c.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoked.status == 200
    records = caplog.records
    assert any(r.name == "aiohttp.access" and "/oauth/token" in r.getMessage() for r in records)
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in records) + caplog.text
    secrets = {
        "token": token,
        "password": PASSWORD,
        "wrong password": "the-wrong-password-1",
        "second wrong password": "the-wrong-password-2",
        "code": code,
        "client secret": app["client_secret"],
        "state": "the-state-2",
        "code verifier": verifier,
        "csrf": csrf,
        "forged token": "the-forged-token-1",
        "signature": signature[1],
    }
    for name, secret in secrets.items():
        assert secret not in text, name


async def test_a_database_error_never_shows_the_values_of_its_statement(unit_db) -> None:  # type: ignore[no-untyped-def]
    """A failed statement's error (logged with its traceback) names the SQL, not the values."""
    secret = "the-client-secret-in-a-failed-insert"
    row = {
        "name": "t",
        "client_id": "dup",
        "client_secret": secret,
        "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read",
        "created_at": clock.now(),
    }
    for unit in (True, False):  # a unit of work on a connection thread, and an async connection
        with pytest.raises(sa.exc.IntegrityError) as failed:
            if unit:
                await unit_db.write(lambda conn: conn.execute(t.oauth_apps.insert(), [row, row]))
            else:
                async with unit_db.write() as conn:
                    await conn.execute(t.oauth_apps.insert(), [row, row])
        assert secret not in str(failed.value) and "oauth_apps" in str(failed.value)
