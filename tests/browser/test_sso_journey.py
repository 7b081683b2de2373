"""In a real headless Chromium against a real ``koers serve`` with single sign-on configured
(a real OpenID provider on loopback): "Log in with Test ID" from the login page, the provider's
form, back signed in on the page asked for. Then a password member with two-factor sign-in:
the code page after the password."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from tests.browser.cdp import Browser
from tests.browser.serve import koers_serve
from tests.browser.test_first_visit import ARTIFACTS, PASSWORD
from tests.oidc_peer import Provider, provider_missing, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    reason = provider_missing()
    if reason:
        pytest.skip(reason)
    with running_provider(tmp_path) as p:
        yield p


@pytest.fixture
def server(tmp_path: Path, provider: Provider) -> Iterator[str]:
    with koers_serve(tmp_path, provider.env()) as url:
        yield url


def _click(browser: Browser, link_text: str) -> None:
    browser._events.clear()
    browser.evaluate(
        f"[...document.links].find(a => a.textContent.includes({json.dumps(link_text)})).click()"
    )
    browser.wait_for("Page.loadEventFired")


def test_sign_in_with_the_provider_then_two_factor(
    browser: Browser, server: str, provider: Provider, tmp_path: Path
) -> None:
    log = (tmp_path / "server.log").read_text()
    assert f"register the redirect URI {server}/auth/oidc/callback" in log, log

    provider.set_account("sub-chris", email="chris@example.org", preferred_username="chris")
    browser.goto(server + "/login?next=/settings/security")
    _click(browser, "Log in with Test ID")
    assert browser.url.startswith(provider.issuer + "/interaction/"), browser.url
    action = browser.evaluate("document.forms[0].getAttribute('action')")
    browser.submit(action, {"login": "sub-chris", "password": "anything"})
    assert browser.url == server + "/settings/security", browser.url
    text = browser.text()
    assert "Log out" in text and "Linked: you can sign in with Test ID" in text, text
    browser.screenshot(ARTIFACTS / "browser-sso-signed-in.png")

    # a password member turns on two-factor sign-in, then logs in again
    browser.clear_cookies()
    browser.goto(server + "/signup")
    browser.submit(
        "/signup",
        {
            "username": "dana",
            "email": "dana@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    browser.goto(server + "/settings/security")
    browser.submit("/settings/2fa/setup", {})
    secret = browser.evaluate("document.getElementById('totp-secret').textContent")
    browser.submit("/settings/2fa/confirm", {"code": pyotp.TOTP(secret).at(time.time() - 30)})
    assert "Your recovery codes" in browser.text(), browser.text()
    browser.clear_cookies()
    browser.goto(server + "/login?next=/settings/security")
    browser.submit("/login", {"login": "dana", "password": PASSWORD})
    assert browser.url == server + "/login/2fa", browser.url
    browser.submit("/login/2fa", {"code": "000000"})
    assert "that code is not right" in browser.text()
    browser.screenshot(ARTIFACTS / "browser-two-factor.png")
    browser.submit("/login/2fa", {"code": pyotp.TOTP(secret).now()})
    assert browser.url == server + "/settings/security", browser.url
    assert "Two-factor sign-in is on" in browser.text()
