"""``remote_sync.fetch_as``: another signer is tried when the origin refuses one, not when the origin
cannot be reached at all (each try would wait out the same timeout)."""

from __future__ import annotations

from typing import Any

import pytest

from federation.errors import FetchError
from server.activitypub.core import remote_sync


@pytest.mark.parametrize(
    ("reason", "tries"),
    [
        ("timeout", 1),
        ("network", 1),
        ("dns", 1),
        ("private_address", 1),
        ("http_401", 4),
        ("http_404", 4),
    ],
)
async def test_signers_tried_only_when_the_origin_answers(
    monkeypatch, reason: str, tries: int
) -> None:  # type: ignore[no-untyped-def]
    asked: list[Any] = []

    async def refusing(
        _app: object, url: str, *, as_actor: int | None = None, refresh: bool = False
    ) -> dict[str, Any]:
        asked.append(as_actor)
        raise FetchError(reason, f"GET {url}")

    monkeypatch.setattr(remote_sync, "fetch_signed", refusing)
    assert await remote_sync.fetch_as(object(), "https://far.example/groups/g", [1, 2, 3]) is None  # type: ignore[arg-type]
    assert asked == [1, 2, 3, None][:tries]
