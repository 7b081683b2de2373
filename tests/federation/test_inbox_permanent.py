"""An inbox activity that can never be processed is dropped with its reason; transient ones retry."""

from __future__ import annotations

from federation.errors import FetchError
from federation.inbox import process_inbox_once
from federation.state import INBOX_HANDLERS
from tests.federation.conftest import activity_rows, post_activity, signer_for


async def test_permanent_failures_are_dropped_transient_ones_retried(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    alice = await signer_for(a, "alice")

    async def unparsable(app, activity, signer_id):  # type: ignore[no-untyped-def]
        raise FetchError("not_json", "https://a.example/x did not answer JSON: nested too deep")

    async def offline(app, activity, signer_id):  # type: ignore[no-untyped-def]
        raise FetchError("network", "GET https://a.example/y: ClientConnectorError")

    b.app[INBOX_HANDLERS].register("Announce", unparsable)
    b.app[INBOX_HANDLERS].register("Like", offline)
    for type_ in ("Announce", "Like"):
        status, _ = await post_activity(
            f"{b.url}/inbox", alice.activity(type_, object=f"{alice.uri}/x"), alice
        )
        assert status == 202
    assert await process_inbox_once(b.app) == 2
    rows = {r.type: r for r in await activity_rows(b)}
    assert rows["Announce"].state == "failed" and rows["Announce"].attempts == 1
    assert rows["Announce"].last_error.startswith("dropped: not_json")
    assert rows["Like"].state == "new" and "network" in rows["Like"].last_error
