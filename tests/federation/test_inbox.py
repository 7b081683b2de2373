"""The inbox over real HTTP between two instances: checks, signatures, dedupe, processing."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest
import sqlalchemy as sa

from federation.errors import Ignore
from federation.inbox import process_inbox_once
from federation.state import INBOX_HANDLERS
from server import clock
from server.storage import schema as t
from tests.federation.conftest import activity_rows, post_activity, signer_for

pytestmark = pytest.mark.slow


async def test_signed_activity_is_stored_and_processed(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    seen: list[tuple[dict, int]] = []

    async def on_create(app, activity, signer_id):  # type: ignore[no-untyped-def]
        seen.append((activity, signer_id))

    b.app[INBOX_HANDLERS].register("Create", on_create)
    note = {
        "id": f"{alice.uri}/notes/1",
        "type": "Note",
        "attributedTo": alice.uri,
        "content": "hi",
    }
    activity = alice.activity("Create", object=note)
    status, text = await post_activity(f"{b.url}/users/bob/inbox", activity, alice)
    assert status == 202, text
    rows = await activity_rows(b)
    assert [(r.uri, r.state, r.type) for r in rows] == [(activity["id"], "new", "Create")]
    async with b.db.read() as conn:
        remote = (await conn.execute(sa.select(t.actors).where(t.actors.c.uri == alice.uri))).one()
    assert (
        remote.domain == a.settings.domain
        and remote.public_key_pem
        and rows[0].signer_id == remote.id
    )

    # Replaying the same activity id: accepted (202) but nothing new is stored.
    status, _ = await post_activity(f"{b.url}/inbox", activity, alice)
    assert status == 202
    assert len(await activity_rows(b)) == 1

    assert await process_inbox_once(b.app) == 1
    assert seen == [(activity, remote.id)]
    assert [r.state for r in await activity_rows(b)] == ["done"]


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("unsigned", 401, "no_signature"),
        ("tampered", 401, "bad_digest"),
        ("forged", 401, "key_mismatch"),
        ("not_json", 400, ""),
        ("no_actor", 400, ""),
        ("oversized", 413, ""),
        ("blocked", 403, ""),
    ],
)
async def test_rejections_store_nothing(pair, case: str, status: int, reason: str) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    activity = alice.activity("Create", object={"id": f"{alice.uri}/notes/2", "type": "Note"})
    url = f"{b.url}/inbox"
    if case == "unsigned":
        got = await post_activity(url, activity, None)
    elif case == "tampered":
        got = await post_activity(
            url, activity, alice, tamper=json.dumps({**activity, "type": "Delete"}).encode()
        )
    elif case == "forged":
        # bob (a key B knows) signs an activity that claims to come from alice on A.
        got = await post_activity(url, activity, await signer_for(b, "bob"))
    elif case == "not_json":
        got = await post_activity(url, b"<html>hello</html>", alice)
    elif case == "no_actor":
        got = await post_activity(url, {"id": activity["id"], "type": "Create"}, alice)
    elif case == "oversized":
        got = await post_activity(url, {**activity, "pad": "x" * (1024 * 1024)}, alice)
    else:
        async with b.db.write() as conn:
            await conn.execute(
                sa.insert(t.domain_blocks).values(
                    domain=a.settings.hostname, severity="suspend", created_at=clock.now()
                )
            )
        got = await post_activity(url, activity, alice)
    assert got[0] == status, got
    assert reason in got[1]
    assert await activity_rows(b) == []


async def test_handler_outcomes(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    calls = {"Like": 0}

    async def ignore(app, activity, signer_id):  # type: ignore[no-untyped-def]
        raise Ignore("not addressed to anyone here")

    async def broken(app, activity, signer_id):  # type: ignore[no-untyped-def]
        calls["Like"] += 1
        raise RuntimeError("database hiccup")

    handlers = b.app[INBOX_HANDLERS]
    handlers.register("Announce", ignore)
    handlers.register("Like", broken)
    for type_ in ("Announce", "Like", "Wave"):
        status, _ = await post_activity(
            f"{b.url}/inbox", alice.activity(type_, object=f"{alice.uri}/x"), alice
        )
        assert status == 202
    assert await process_inbox_once(b.app) == 3
    states = {r.type: (r.state, r.last_error) for r in await activity_rows(b)}
    assert states["Announce"] == ("ignored", "not addressed to anyone here")
    assert states["Wave"] == ("ignored", "no handler for type Wave")
    assert states["Like"][0] == "new" and "database hiccup" in states["Like"][1]
    # Not due yet: nothing happens; then each retry is driven with a clock in the future.
    assert await process_inbox_once(b.app) == 0
    for _ in range(10):
        await process_inbox_once(b.app, now=clock.now() + timedelta(days=1))
    states = {r.type: r.state for r in await activity_rows(b)}
    assert states["Like"] == "failed"
    assert calls["Like"] == 5


async def test_object_from_another_host_is_not_believed(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    forged = {
        "id": "https://elsewhere.example/notes/1",
        "type": "Note",
        "content": "words put in a mouth",
    }
    activity = alice.activity("Announce", object=forged)
    assert (await post_activity(f"{b.url}/inbox", activity, alice))[0] == 202
    stored = (await activity_rows(b))[0].document
    assert stored["object"] == "https://elsewhere.example/notes/1"


async def test_deletion_of_an_unknown_account_is_acknowledged_without_fetching(pair) -> None:
    _a, b = pair
    gone = "https://gone.example/users/ghost"
    activity = {"id": f"{gone}#delete", "type": "Delete", "actor": gone, "object": gone}
    status, _ = await post_activity(f"{b.url}/inbox", activity, None)
    assert status == 202
    assert await activity_rows(b) == []


async def test_large_bodies_are_read_whole_and_chunked_ones_are_limited(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    big = alice.activity(
        "Create", object={"id": f"{alice.uri}/notes/9", "type": "Note", "content": "x" * 900_000}
    )
    status, text = await post_activity(f"{b.url}/inbox", big, alice)
    assert status == 202, text
    assert (await activity_rows(b))[0].document["object"]["content"] == "x" * 900_000

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{b.url}/inbox", data=chunks(), headers={"Content-Type": "application/activity+json"}
        ) as resp:
            assert resp.status == 413
    assert len(await activity_rows(b)) == 1
