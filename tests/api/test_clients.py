"""Logging in the ways real clients do: Mastodon.py's authorization-code flow, and the toot CLI."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from urllib.parse import parse_qs, urlsplit

from mastodon import Mastodon

from tests.api.conftest import in_thread
from tests.conftest import PASSWORD

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def _approve(browser, url: str) -> object:  # type: ignore[no-untyped-def]
    """Open the authorize URL in a logged-in browser and press Authorize."""
    parts = urlsplit(url)
    page = await browser.get(parts.path + "?" + parts.query)
    html = await page.text()
    assert page.status == 200, html
    form = dict(HIDDEN.findall(html))
    return await browser.post(
        "/oauth/authorize", data={**form, "decision": "approve"}, allow_redirects=False
    )


async def test_mastodon_py_authorization_code_oob_and_redirect(instance):
    await instance.create_member("alice")
    browser = await instance.login("alice")
    redirect = "http://127.0.0.1:9/callback"

    def register() -> tuple[str, str]:
        return Mastodon.create_app(
            "mpy",
            scopes=["read", "write"],
            redirect_uris=["urn:ietf:wg:oauth:2.0:oob", redirect],
            api_base_url=instance.url,
        )

    cid, secret = await in_thread(register)
    m = Mastodon(
        client_id=cid, client_secret=secret, api_base_url=instance.url, version_check_mode="none"
    )

    # out-of-band: the page shows the code
    url = await in_thread(m.auth_request_url, scopes=["read", "write"], allow_http=True)
    resp = await _approve(browser, url)
    code = re.search(r'readonly value="([^"]+)"', await resp.text()).group(1)
    await in_thread(m.log_in, code=code, scopes=["read", "write"], allow_http=True)
    assert (await in_thread(m.account_verify_credentials)).acct == "alice"

    # redirect URI with state
    m2 = Mastodon(
        client_id=cid, client_secret=secret, api_base_url=instance.url, version_check_mode="none"
    )
    url = await in_thread(
        m2.auth_request_url, redirect_uris=redirect, scopes=["read"], state="s1", allow_http=True
    )
    resp = await _approve(browser, url)
    assert resp.status == 302
    got = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert got["state"] == ["s1"]
    await in_thread(
        m2.log_in, code=got["code"][0], redirect_uri=redirect, scopes=["read"], allow_http=True
    )
    me = await in_thread(m2.account_verify_credentials)
    assert me.acct == "alice"
    # a read-only token cannot post
    from mastodon.errors import MastodonAPIError

    try:
        await in_thread(m2.status_post, "nope")
        raise AssertionError("posting with a read token worked")
    except MastodonAPIError as exc:
        assert "scope" in str(exc)


async def _toot(env: dict, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "toot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


async def test_toot_cli_login_post_timeline(instance, tmp_path):
    await instance.create_member("alice")
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "TERM": "dumb",
        "NO_COLOR": "1",
    }
    code, out = await _toot(
        env, "login_cli", "-i", instance.url, "-e", "alice@example.test", "-p", PASSWORD
    )
    assert code == 0, out
    code, out = await _toot(env, "post", "Posted from toot #cli")
    assert code == 0, out
    code, out = await _toot(env, "timeline")
    assert code == 0, out
    assert "Posted from toot" in out
    code, out = await _toot(env, "whoami")
    assert code == 0 and "alice" in out, out
