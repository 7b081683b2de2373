"""In a real headless Chromium against a real ``koers serve``: a newcomer signs up, starts a
community, publishes a public result and a members-only one; an anonymous visitor then sees the
result and not the members-only post."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.cdp import Browser
from tests.browser.serve import koers_serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def mailed_link(data_dir: Path, path: str, timeout: float = 20.0) -> str:
    """The first link to ``path`` in the mail written to ``data_dir/mail`` (no SMTP server set)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for eml in sorted((data_dir / "mail").glob("*.eml")):
            message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",))
            found = (
                re.search(r"https?://\S*" + re.escape(path) + r"\S*", body.get_content())
                if body
                else None
            )
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail with a link to {path} in {data_dir / 'mail'}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``koers serve`` in a subprocess on a free loopback port, with its own SQLite data dir."""
    with koers_serve(tmp_path) as url:
        yield url


def test_newcomer_publishes_and_anonymous_sees_only_public(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    browser.goto(server + "/signup")
    browser.submit(
        "/signup",
        {
            "username": "bea",
            "email": "bea@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert "Log out" in browser.text() and "@bea" in browser.text(), browser.text()
    # Posting waits for the address to be confirmed: the link comes by mail.
    browser.goto(mailed_link(tmp_path / "data", "/mail/confirm/"))

    browser.goto(server + "/communities/new")
    browser.submit(
        "/communities/new",
        {
            "name": "Repair Café",
            "handle": "repair",
            "purpose": "Keep things out of the landfill by fixing them together.",
            "openness": "open",
        },
    )
    assert "/c/repair" in browser.url, browser.text()
    assert "Keep things out of the landfill" in browser.text()

    browser.goto(server + "/compose")
    community_value = browser.evaluate(
        "[...document.querySelectorAll('#f-community_id option')].find(o => o.textContent.includes('Repair')).value"
    )
    browser.submit(
        "/compose",
        {
            "status": "Result: fixed 23 toasters this month",
            "audience": "public",
            "community_id": community_value,
            "kind": True,
        },
    )
    assert "fixed 23 toasters" in browser.text(), browser.text()

    browser.goto(server + "/compose")
    browser.submit(
        "/compose",
        {
            "status": "Members only: the workshop key is under the mat",
            "audience": "members",
            "community_id": community_value,
            "kind": True,
        },
    )
    page_text = browser.text()
    assert "workshop key" in page_text, page_text
    secret_url = browser.url
    assert "/@bea/" in secret_url, secret_url  # the new post's own page
    browser.goto(server + "/c/repair")
    assert "workshop key" in browser.text()  # members see it on the community page
    browser.screenshot(ARTIFACTS / "browser-member-view.png")

    # Now as an anonymous visitor.
    browser.clear_cookies()
    browser.goto(server + "/c/repair")
    community_text = browser.text()
    assert "Keep things out of the landfill" in community_text
    assert "fixed 23 toasters" in community_text
    assert "workshop key" not in community_text
    browser.screenshot(ARTIFACTS / "browser-anonymous-community.png")

    browser.goto(server + "/@bea")
    profile_text = browser.text()
    assert "fixed 23 toasters" in profile_text
    assert "workshop key" not in profile_text
    assert "Log in" in profile_text or "Sign up" in profile_text  # really signed out

    browser.goto(server + "/")
    assert "workshop key" not in browser.text()
    assert browser.status_of(secret_url) == 404
    assert (ARTIFACTS / "browser-anonymous-community.png").stat().st_size > 1000
