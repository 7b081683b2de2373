"""The axe-core run visits every kind of HTML page: each GET route of the web pages is matched
by a path of ``page_kinds`` (logged out or in), or named in ``NOT_PAGES`` with why. A fast test:
it reads the route tables, it starts no server or browser."""

from __future__ import annotations

import importlib
import re
from urllib.parse import urlsplit

from aiohttp import web

from server.web import PAGE_MODULES
from tests.browser.page_kinds import LOGGED_IN, LOGGED_OUT, NOT_PAGES


def _page_routes() -> dict[str, re.Pattern[str]]:
    """canonical template -> the pattern its paths match, for every GET route of the web pages."""
    router = web.UrlDispatcher()
    for name in PAGE_MODULES:
        router.add_routes(importlib.import_module(f"server.web.{name}").routes)
    found: dict[str, re.Pattern[str]] = {}
    for route in router.routes():
        if route.method != "GET":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        pattern = info.get("pattern") or re.compile(re.escape(str(info.get("path", ""))))
        # "{name:regex}" -> "{name}": the same spelling as NOT_PAGES
        canonical = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route.resource.canonical)
        found[canonical] = pattern
    return found


def test_every_page_kind_is_in_the_axe_run() -> None:
    routes = _page_routes()
    visited = {urlsplit(p.format(base="")).path for p in LOGGED_OUT + LOGGED_IN}
    covered = {t for t, pattern in routes.items() if any(pattern.fullmatch(p) for p in visited)}
    left = sorted(set(routes) - covered - set(NOT_PAGES))
    assert not left, f"GET routes neither in the axe run nor in NOT_PAGES: {left}"
    stale = sorted(set(NOT_PAGES) - set(routes))
    assert not stale, f"NOT_PAGES names routes that no longer exist: {stale}"
    unmatched = sorted(
        p
        for p in visited - {"/nothing-here"}  # the 404 page: no route, on purpose
        if not any(r.fullmatch(p) for r in routes.values())
    )
    assert not unmatched, f"paths of the axe run that no route answers: {unmatched}"
