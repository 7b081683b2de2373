"""Screenshots of the main pages at 1280 and 390 px, for a reviewer to look at.

    python scripts/screenshots.py OUT [--url http://127.0.0.1:8080] [--full]

Without ``--url`` it starts ``koers demo`` in a temporary directory and photographs that; pages
marked "member" are taken logged in as the demo's ``lotte``. Needs Chromium (``/usr/bin/chromium``
or ``KOERS_CHROMIUM``). ``--full`` takes each whole page, not only its first screen.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.cdp import Browser, find_chromium  # noqa: E402
from tests.browser.demo_server import DEMO_PASSWORD, demo_server  # noqa: E402

# name: path; a name starting with "member-" is taken logged in
PAGES = {
    "front": "/",
    "about": "/about",
    "explore": "/explore",
    "community": "/c/energy",
    "roles": "/c/energy/roles",
    "profile": "/@lotte",
    "not-found": "/c/nosuch",
    "communities": "/communities",
    "post": "/@lotte/1",
    "event": "/c/energy/events/1",
    "roadmap": "/c/energy/roadmap",
    "member-home": "/home",
    "member-community": "/c/energy",
    "member-compose": "/compose",
    "member-notifications": "/notifications",
    "member-purpose": "/c/circular_kitchen/purpose",
    "member-insights": "/c/energy/insights",
    "member-admin-insights": "/admin/insights",
}
WIDTHS = (1280, 390)


def _size(browser: Browser, width: int) -> None:
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=900 if width > 600 else 844,
        deviceScaleFactor=1,
        mobile=width < 600,
    )


def take_screenshots(
    base: str, out: Path, pages: dict[str, str] | None = None, *, full: bool = False
) -> list[Path]:
    """Photograph ``pages`` of the instance at ``base`` at every width (the first screen, or the
    whole page with ``full``); returns the files."""
    executable = find_chromium()
    if executable is None:
        raise SystemExit("chromium not found: install it or set KOERS_CHROMIUM")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    browser = Browser(executable)
    try:
        logged_in = False
        for name, path in sorted((pages or PAGES).items(), key=lambda kv: kv[0].startswith("m")):
            if name.startswith("member-") and not logged_in:
                browser.goto(base + "/login")
                browser.submit("/login", {"login": "lotte", "password": DEMO_PASSWORD})
                logged_in = True
            for width in WIDTHS:
                _size(browser, width)
                browser.goto(base + path)
                target = out / f"{name}-{width}.png"
                # the first screen, as a person sees it on arrival (or all of it)
                data = browser.send(
                    "Page.captureScreenshot", format="png", captureBeyondViewport=full
                )["data"]
                target.write_bytes(base64.b64decode(data))
                written.append(target)
    finally:
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--url", help="an instance to photograph (default: start koers demo)")
    parser.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    args = parser.parse_args()
    if args.url:
        files = take_screenshots(args.url.rstrip("/"), args.out, full=args.full)
    else:
        with tempfile.TemporaryDirectory(prefix="koers-shots-") as tmp:
            with demo_server(Path(tmp)) as url:
                files = take_screenshots(url, args.out, full=args.full)
    for f in files:
        sys.stdout.write(f"{f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
