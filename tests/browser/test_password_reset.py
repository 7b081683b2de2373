"""In a real headless Chromium against a real ``koers serve``: a member who forgot their password
asks for a link, follows it from the mail, chooses a new password and logs in with it; the used
link and a forged one show a clear page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.cdp import Browser
from tests.browser.test_first_visit import ARTIFACTS, PASSWORD, mailed_link, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "a brand new passphrase"


def test_reset_a_forgotten_password(browser: Browser, server: str, tmp_path: Path) -> None:  # noqa: F811
    browser.goto(server + "/signup")
    browser.submit(
        "/signup",
        {
            "username": "cas",
            "email": "cas@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    browser.submit("/logout", {})

    browser.goto(server + "/login")
    assert "Forgot your password?" in browser.text()
    browser.goto(server + "/password/reset")
    browser.submit("/password/reset", {"email": "nobody@example.test"})
    unknown = browser.text()
    browser.goto(server + "/password/reset")
    browser.submit("/password/reset", {"email": "cas@example.test"})
    known = browser.text()
    assert "If cas@example.test belongs to an account here" in known, known
    assert unknown.replace("nobody@", "cas@") == known  # the same answer either way

    link = mailed_link(tmp_path / "data", "/password/reset/")
    browser.goto(link)
    assert "Choose a new password" in browser.text(), browser.text()
    browser.screenshot(ARTIFACTS / "browser-password-reset.png")
    action = urlsplit(link).path
    browser.submit(action, {"password": NEW_PASSWORD, "password_confirm": "not the same"})
    assert "the passwords do not match" in browser.text()
    browser.submit(action, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert "Your password is changed" in browser.text(), browser.text()
    assert browser.url.endswith("/login")

    browser.submit("/login", {"login": "cas", "password": PASSWORD})
    assert "wrong login or password" in browser.text()
    browser.submit("/login", {"login": "cas", "password": NEW_PASSWORD})
    assert "Log out" in browser.text(), browser.text()

    browser.goto(link)
    assert "used already" in browser.text()
    browser.goto(server + "/password/reset/forged-token")
    assert "This link does not work" in browser.text() and "not valid" in browser.text()
