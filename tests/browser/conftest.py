"""The browser tests' Chromium (skipped, with the reason, where it is not installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.cdp import Browser, find_chromium
from tests.browser.demo_server import demo_server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``koers demo`` for the tests of one module (started once, stopped after its last test)."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium, or set KOERS_CHROMIUM)")
    with demo_server(tmp_path_factory.mktemp("demo")) as url:
        yield url


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
