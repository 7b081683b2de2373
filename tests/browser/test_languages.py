"""In a real headless Chromium: a browser that asks for Dutch (``Accept-Language: nl``) gets the
interface in Dutch, ``<html lang="nl">`` included; one that asks for nothing gets English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.cdp import Browser
from tests.browser.serve import koers_serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with koers_serve(tmp_path) as url:
        yield url


def _speak(browser: Browser, accept_language: str) -> None:
    agent = browser.evaluate("navigator.userAgent")
    browser.send("Network.setUserAgentOverride", userAgent=agent, acceptLanguage=accept_language)


def test_a_dutch_browser_gets_dutch_and_an_english_one_english(
    browser: Browser, server: str
) -> None:
    _speak(browser, "nl-NL,nl;q=0.9,en;q=0.5")
    browser.goto(server + "/login")
    assert browser.evaluate("document.documentElement.lang") == "nl"
    text = browser.text()
    assert "Wachtwoord vergeten?" in text and "Gebruikersnaam of e-mailadres" in text
    assert "Forgot your password?" not in text
    browser.goto(server + "/no/such/page")
    assert "Pagina niet gevonden" in browser.text()

    _speak(browser, "en-GB,en;q=0.8")
    browser.goto(server + "/login")
    assert browser.evaluate("document.documentElement.lang") == "en"
    assert "Forgot your password?" in browser.text()
