"""``CachedMap.get_many`` answers as ``get`` does key by key: fresh values only, expired ones
dropped, nothing after a watched write."""

from __future__ import annotations

import pytest

from server.storage import caches
from server.storage.caches import CachedMap


def test_get_many_is_get_for_each_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caches, "SETTLE_SECONDS", 0)
    now = [100.0]
    monkeypatch.setattr(caches.time, "monotonic", lambda: now[0])
    cache: CachedMap[str] = CachedMap(ttl=10, maxsize=8)
    cache.put("a", "A", cache.generation)
    now[0] += 6
    cache.put("b", "B", cache.generation)
    assert cache.get_many(["a", "b", "c"]) == {"a": "A", "b": "B"}
    now[0] += 5  # "a" is 11 s old: expired, "b" 5 s: fresh
    assert cache.get_many(["a", "b"]) == {"b": "B"}
    assert cache.get("a") is None and cache.get("b") == "B"
    cache.invalidate()
    assert cache.get_many(["b"]) == {}
