"""In a real headless Chromium against a real ``koers serve``: a newcomer signs up, starts a
community, publishes a public result and a members-only one; an anonymous visitor then sees the
result and not the members-only post."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.cdp import Browser, find_chromium
from tests.browser.mailbox import mailed_link

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium, or set KOERS_CHROMIUM)")
    b = Browser(executable)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``koers serve`` in a subprocess on a free loopback port, with its own SQLite data dir."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env["PYTHONPATH"] = str(ROOT)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("koers serve did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


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
    # the address is confirmed with the link mailed to it (written to DATA_DIR/mail here)
    browser.goto(mailed_link(tmp_path / "data", "bea@example.test", "/mail/confirm/"))
    assert "Address confirmed" in browser.text(), browser.text()

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
