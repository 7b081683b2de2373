"""The browser tests' Chromium (skipped, with the reason, where it is not installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.cdp import Browser, find_chromium


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
