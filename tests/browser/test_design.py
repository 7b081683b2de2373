"""The designed pages in a real headless Chromium against ``koers demo``, as a person uses them:
a visitor reads the organisation and a community; a member likes and boosts inline with and
without JavaScript; a phone 390 px wide; axe-core finds no serious or critical violation on any
page kind (``page_kinds``: logged in and out, light and dark); no page weighs over 150 KB; no
request leaves the instance."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.cdp import Browser
from tests.browser.demo_server import AXE, DEMO_PASSWORD
from tests.browser.page_kinds import LOGGED_IN, LOGGED_OUT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PUBLIC_PAGES = ["/", "/about", "/explore", "/communities", "/c/energy", "/c/energy/roles"]
MAX_PAGE_BYTES = 150 * 1024


def log_in(browser: Browser, base: str, username: str) -> None:
    browser.goto(base + "/login")
    browser.submit("/login", {"login": username, "password": DEMO_PASSWORD})
    # textContent, not the visible text: on a phone "Log out" is in the closed "More" menu.
    nav = str(browser.evaluate("document.querySelector('header.site').textContent"))
    assert "Log out" in nav, browser.text()


def wait_until(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_visitor_reads_the_organisation_and_a_community(browser: Browser, demo: str) -> None:
    browser.goto(demo + "/about")
    text = browser.text()
    assert "About" in text and "Contact" in text and "Partner organisations" in text
    assert "Energy" in text  # the communities and their purposes
    browser.goto(demo + "/explore")
    assert "Communities" in browser.text() and "Recent posts" in browser.text()
    browser.goto(demo + "/c/energy")
    assert _foreign(browser, demo) == []  # every picture, style and script from the instance
    assert "Roles" in browser.text()
    # avatars everywhere a person appears: every card has one
    missing = browser.evaluate(
        "[...document.querySelectorAll('.post')].filter(c => !c.querySelector('.avatar')).length"
    )
    assert missing == 0
    browser.goto(demo + "/c/energy/roles")
    assert "Roles in" in browser.text() and "Vacant" in browser.text()
    browser.goto(demo + "/c/nosuchcommunity")
    assert "community" in browser.text() and "Where to go from here" in browser.text()
    assert "Not Found" not in browser.text()


FIRST_LIKE = "document.querySelector('form[data-card-action][action$=\"/like\"]')"


def _like_and_boost(browser: Browser, demo: str, *, scripts: bool) -> None:
    browser.goto(demo + "/explore")
    action = browser.evaluate(f"{FIRST_LIKE}.getAttribute('action')")
    assert action, "no inline like button on /explore"
    card = browser.evaluate(f"{FIRST_LIKE}.closest('article').id")
    base_action = action.rsplit("/", 1)[0]
    browser.evaluate("window.__marker = 'same page'")
    if scripts:
        browser.evaluate(f"{FIRST_LIKE}.querySelector('button').click()")
        unliked = wait_until(
            lambda: browser.evaluate(
                f"!!document.querySelector('#{card} form[action=\"{base_action}/unlike\"]')"
            )
        )
        assert unliked, browser.text()
        # no reload: the script swapped the card in place
        assert browser.evaluate("window.__marker") == "same page"
        boost = f"document.querySelector('#{card} form[action=\"{base_action}/boost\"] button')"
        if browser.evaluate(f"!!{boost}"):
            browser.evaluate(f"{boost}.click()")
            assert wait_until(
                lambda: browser.evaluate(
                    f"!!document.querySelector('#{card} form[action=\"{base_action}/unboost\"]')"
                )
            )
    else:
        browser._events.clear()
        browser.evaluate(f"{FIRST_LIKE}.querySelector('button').click()")
        browser.wait_for("Page.loadEventFired")
        assert browser.evaluate("window.__marker") is None  # a real form post and redirect
        assert browser.url.endswith(f"/explore#{card}"), browser.url
        assert browser.evaluate(
            f"!!document.querySelector('#{card} form[action=\"{base_action}/unlike\"]')"
        )


def test_a_member_likes_and_boosts_inline_with_javascript(browser: Browser, demo: str) -> None:
    log_in(browser, demo, "samir")
    _like_and_boost(browser, demo, scripts=True)


def test_a_member_likes_inline_without_javascript(browser: Browser, demo: str) -> None:
    log_in(browser, demo, "ingrid")
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    _like_and_boost(browser, demo, scripts=False)


def set_phone(browser: Browser) -> None:
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )


def test_phone_width_has_no_sideways_scrolling(browser: Browser, demo: str) -> None:
    """Every kind of page (``page_kinds``), logged out and as the administrator, at 390 px: no
    page is wider than the phone (tables scroll inside their own box), and the navigation is a
    bar at the top, not a column beside the content."""
    set_phone(browser)
    wide: dict[str, int] = {}

    def check(label: str, path: str) -> None:
        browser.goto(demo + path.format(base=demo))
        width = int(browser.evaluate("document.documentElement.scrollWidth"))
        if width > 390:
            wide[label] = width
        assert browser.evaluate("document.querySelector('header.site').offsetHeight") < 200

    for path in LOGGED_OUT:
        check("out " + path, path)
    log_in(browser, demo, "lotte")
    for path in LOGGED_IN:
        check("in " + path, path)
    assert not wide, f"wider than 390 px: {wide}"


def _weight(browser: Browser) -> int:
    return int(
        browser.evaluate(
            "new Blob([document.documentElement.outerHTML]).size + performance"
            ".getEntriesByType('resource').filter(r => /\\.(css|js)$/.test(r.name))"
            ".reduce((n, r) => n + (r.decodedBodySize || 0), 0)"
        )
    )


def _axe(browser: Browser) -> list[dict[str, Any]]:
    browser.evaluate(AXE.read_text() + "\n;true")
    found = browser.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return list(found or [])


def _foreign(browser: Browser, base: str) -> list[str]:
    """What the page fetched from anywhere but the instance: every resource it loaded (styles,
    scripts, images, fonts, fetches), as the browser's resource timing lists them."""
    loaded = browser.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
    return [u for u in loaded or [] if not u.startswith((base, "data:", "blob:"))]


def _not_found(browser: Browser) -> bool:
    return bool(browser.evaluate("document.title.startsWith('Page not found')"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation_and_no_heavy_page(
    browser: Browser, demo: str, scheme: str
) -> None:
    """Every kind of page (``page_kinds``), logged out and logged in as the administrator: no
    serious or critical axe-core violation, at most 150 KB of HTML+CSS+JS, nothing fetched from
    another server."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm install --prefix tests/node")
    browser.send("Page.setBypassCSP", enabled=True)  # to inject axe; our pages need no bypass
    browser.send(
        "Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": scheme}]
    )
    problems: dict[str, Any] = {}
    weights: dict[str, int] = {}
    foreign: dict[str, list[str]] = {}
    missing: list[str] = []

    def check(label: str, path: str) -> None:
        browser.goto(demo + path.format(base=demo))
        if _not_found(browser) and path != "/nothing-here":
            missing.append(label)
        weights[label] = _weight(browser)
        if outside := _foreign(browser, demo):
            foreign[label] = outside
        if found := _axe(browser):
            problems[label] = found

    for path in LOGGED_OUT:
        check("out " + path, path)
    log_in(browser, demo, "lotte")
    for path in LOGGED_IN:
        check("in " + path, path)
    assert not missing, f"pages of the run that answer 404 (demo data changed?): {missing}"
    assert not problems, json.dumps(problems, indent=1)
    heavy = {k: v for k, v in weights.items() if v > MAX_PAGE_BYTES}
    assert not heavy, heavy
    assert not foreign, foreign


def test_screenshots_script_writes_both_widths(tmp_path: Path, demo: str) -> None:
    from scripts.screenshots import take_screenshots

    written = take_screenshots(demo, tmp_path, pages={"front": "/"})
    assert sorted(p.name for p in written) == ["front-1280.png", "front-390.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def _png_base64() -> str:
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 90)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_compose_counts_characters_and_takes_a_dropped_picture(browser: Browser, demo: str) -> None:
    """The compose component with JavaScript: the counter follows the text (and says when it is
    too long); a picture dropped on the form fills a file input and opens the pictures part; the
    post is published with it."""
    log_in(browser, demo, "joris")
    browser.goto(demo + "/compose")
    counter = (
        "document.getElementById(document.querySelector('form[data-compose] textarea')"
        ".getAttribute('data-counter'))"
    )
    typed = """(t => { t.value = %s; t.dispatchEvent(new Event('input')); return true; })(
        document.querySelector('form[data-compose] textarea'))"""
    browser.evaluate(typed % json.dumps("Dropped in: the new heat pump."))
    left = browser.evaluate(f"{counter}.textContent")
    assert "characters left" in left and left.replace(",", "").startswith("4970"), left
    browser.evaluate(typed % "'x'.repeat(5002)")
    assert browser.evaluate(f"{counter}.textContent") == "2 characters too many"
    assert browser.evaluate(f"{counter}.classList.contains('over')")
    browser.evaluate(typed % json.dumps("Dropped in: the new heat pump."))

    zone = "document.querySelector('[data-drop-zone]')"
    assert not browser.evaluate(f"{zone}.querySelector('.drop-hint').hidden")
    browser.evaluate(
        """((b64) => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], 'pump.png', {type: 'image/png'}));
          document.querySelector('form[data-compose]').dispatchEvent(
            new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
          return true;
        })("""
        + json.dumps(_png_base64())
        + ")"
    )
    assert browser.evaluate(f"{zone}.closest('details').open")
    assert browser.evaluate(f"{zone}.querySelector('input[type=file]').files.length") == 1
    alt = f"{zone}.querySelector('input[type=text], textarea')"
    if browser.evaluate(f"!!{alt}"):
        browser.evaluate(f"{alt}.value = 'A heat pump in the basement'; true")
    browser._events.clear()
    browser.evaluate("document.querySelector('form[data-compose] button[type=submit]').click()")
    browser.wait_for("Page.loadEventFired")
    assert wait_until(
        lambda: browser.evaluate(
            "[...document.querySelectorAll('article.post')].some(a => "
            "a.textContent.includes('the new heat pump') && a.querySelector('img[src*=\"/media/\"]'))"
        )
    ), browser.text()[:1500]
