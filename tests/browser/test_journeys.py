"""Journeys in a real headless Chromium against ``koers demo``: a post made through the client
API appears behind the "new posts" bar of the organisation feed and goes in on click, without a
reload, and a mention raises the navigation's unread count while the page stays open; a manager
runs a consent round from the purpose page, from opening it to the adopted version."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.browser.cdp import Browser
from tests.browser.demo_server import DEMO_PASSWORD
from tests.browser.test_design import log_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _call(url: str, data: dict[str, str], token: str | None = None) -> Any:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode())
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=20) as resp:
        return json.load(resp)


def api_token(base: str, username: str) -> str:
    """A token of a demo member, as a Mastodon app gets one (the password grant)."""
    app = _call(
        base + "/api/v1/apps",
        {"client_name": "browser test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        | {"scopes": "read write"},
    )
    issued = _call(
        base + "/oauth/token",
        {
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": DEMO_PASSWORD,
            "scope": "read write",
        },
    )
    return str(issued["access_token"])


def api_post(base: str, token: str, text: str) -> str:
    return str(
        _call(base + "/api/v1/statuses", {"status": text, "visibility": "public"}, token)["id"]
    )


def _stream_open(browser: Browser) -> bool:
    return browser.evaluate("document.documentElement.dataset.live") == "open"


def test_a_post_made_through_the_api_appears_behind_the_bar(browser: Browser, demo: str) -> None:
    token = api_token(demo, "samir")
    log_in(browser, demo, "lotte")
    browser.goto(demo + "/feed")
    browser.evaluate("window.__marker = 'same page'")
    assert browser.evaluate("document.querySelector('[data-live-show]').hidden")
    assert wait_until(lambda: _stream_open(browser))
    unread_before = int(browser.evaluate("document.querySelector('[data-unread-n]').textContent"))

    post_id = api_post(demo, token, "Live from the API: the solar panels are in.")
    bar = wait_until(
        lambda: browser.evaluate(
            "(b => !b.hidden && b.textContent)(document.querySelector('[data-live-show]'))"
        ),
        timeout=20,
    )
    assert bar == "1 new post — show", bar
    assert not browser.evaluate(f"!!document.getElementById('p{post_id}')")  # behind the bar

    browser.evaluate("document.querySelector('[data-live-show]').click()")
    assert wait_until(lambda: browser.evaluate(f"!!document.getElementById('p{post_id}')"))
    first = browser.evaluate("document.querySelector('[data-live] article.post').id")
    assert first == f"p{post_id}"  # at the top of the feed
    assert "solar panels are in" in browser.text()
    assert browser.evaluate("document.querySelector('[data-live-show]').hidden")
    assert browser.evaluate("window.__marker") == "same page"  # no reload

    # a mention raises the navigation's unread count while the page stays open
    api_post(demo, token, "@lotte could you check the inverter?")
    assert wait_until(
        lambda: (
            int(browser.evaluate("document.querySelector('[data-unread-n]').textContent"))
            == unread_before + 1
        ),
        timeout=20,
    )
    assert not browser.evaluate("document.querySelector('[data-unread]').hidden")
    assert browser.evaluate("window.__marker") == "same page"


def test_without_javascript_the_feed_is_whole_and_shows_no_bar(browser: Browser, demo: str) -> None:
    log_in(browser, demo, "mei")
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    browser.goto(demo + "/home")
    assert browser.evaluate("document.querySelector('[data-live-show]').hidden")
    assert browser.evaluate("document.querySelectorAll('[data-live] article.post').length") > 0
    assert not _stream_open(browser)


def _press(browser: Browser, selector: str) -> None:
    """Click a button that sends its form, and wait for the next page."""
    browser._events.clear()
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
    browser.wait_for("Page.loadEventFired")


def _consent_round(browser: Browser, demo: str) -> None:
    """A manager runs a consent round from the purpose page."""
    log_in(browser, demo, "ingrid")
    page = demo + "/c/circular_kitchen/purpose"
    browser.goto(page)
    assert "Put proposals to a decision" in browser.text()
    browser.submit(
        "/c/circular_kitchen/purpose/decisions", {"method": "consent", "proposal_ids": True}
    )
    assert "Decision open" in browser.text() and "a consent round" in browser.text()
    # the proposal's change is on the page, with words for screen readers
    assert browser.evaluate(
        "!!document.querySelector('.decision-open .diff.readable .visually-hidden')"
    )
    # a block needs its reason: the purpose page says so, beside the field and at the top
    _press(browser, ".decision-open .consent-buttons button[value=block]")
    assert browser.url.startswith(page) or "/consent" in browser.url
    assert "a block needs a reason" in browser.text()
    assert browser.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "Purpose of" in browser.evaluate("document.querySelector('h1').textContent")
    _press(browser, ".decision-open .consent-buttons button[value=agree]")
    assert "You answered: Agree" in browser.text()
    _press(browser, ".decision-open form[action$='/close'] button")
    text = browser.text()
    assert "Decided: purpose version" in text and "Adopted by a decision" in text
    assert "Decision open" not in text


def test_a_manager_runs_a_consent_round_then_members_vote_in_a_poll(
    browser: Browser, demo: str
) -> None:
    """One journey, so that the poll follows the consent round even when tests are spread over
    workers: the consent round, then the poll decision."""
    _consent_round(browser, demo)
    _poll_decision(browser, demo)


def _poll_decision(browser: Browser, demo: str) -> None:
    """After the consent round: the manager reopens the text for review, proposes, puts it
    to a poll; the vote is a plain form (no JavaScript), and the counts show once voted. The
    manager is still signed in from the consent round."""
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    page = demo + "/c/circular_kitchen/purpose"
    browser.goto(page)
    base = "/c/circular_kitchen/purpose"
    if "Propose a new text" not in browser.text():
        browser.submit(base + "/phase", {"phase": "review"})
    browser.submit(
        base + "/proposals",
        {"text": "Halve food waste and share what is left.", "why": "Sharing is caring."},
    )
    browser.goto(page)
    browser.submit(base + "/decisions", {"method": "poll", "proposal_ids": True})
    assert "Decision open" in browser.text() and "a poll" in browser.text()
    assert browser.evaluate("!document.querySelector('.decision-open .poll-results')")
    labels = browser.evaluate(
        "[...document.querySelectorAll('.poll-vote label')].map(l => l.textContent.trim())"
    )
    assert labels[-1] == "Keep the current purpose" and labels[0].startswith("Adopt proposal")
    action = browser.evaluate("document.querySelector('.poll-vote').getAttribute('action')")
    browser.submit(action, {"choice": "0"})
    assert browser.url.startswith(page), browser.url
    text = browser.text()
    assert "Your vote is counted." in text and "You voted: Adopt proposal" in text
    assert "1 vote (100%)" in text
    assert browser.evaluate("!document.querySelector('.poll-vote')")
    _press(browser, ".decision-open form[action$='/close'] button")
    assert "Decided: purpose version" in browser.text()
    assert "Halve food waste and share what is left." in browser.text()
