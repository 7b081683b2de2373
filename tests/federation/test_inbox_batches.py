"""The inbox worker's batches: one note's Create, Update and Delete arriving together are applied in
that order; a batch's writes share commits; a commit that fails (a full disk) loses nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from federation.inbox import process_inbox_once
from federation.state import INBOX_HANDLERS
from server import clock
from server.activitypub.core.inbound import route
from server.storage import group_commit
from server.storage import schema as t
from tests.federation.conftest import Signer, activity_rows, post_activity, signer_for

pytestmark = pytest.mark.slow

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(signer: Signer, content: str, note: str | None = None) -> dict[str, Any]:
    return {
        "id": note or f"{signer.uri}/notes/{uuid.uuid4().hex}",
        "type": "Note",
        "attributedTo": signer.uri,
        "to": [PUBLIC],
        "content": f"<p>{content}</p>",
        "published": "2026-12-01T10:00:00Z",
    }


async def _send(b: Any, signer: Signer, docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        status, text = await post_activity(f"{b.url}/inbox", doc, signer)
        assert status == 202, text


async def _post(b: Any, uri: str) -> Any:
    async with b.db.read() as conn:
        return (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == uri))).first()


async def test_create_update_delete_of_one_note_in_one_batch_apply_in_order(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    await a.create_member("carol")
    carol = await signer_for(a, "carol")
    applied: list[str] = []

    async def recording(app: Any, activity: dict[str, Any], signer_id: int) -> None:
        applied.append(f"{activity['type']} {activity['actor'].rsplit('/', 1)[-1]}")
        await route(app, activity, signer_id)

    for kind in ("Create", "Update", "Delete"):
        b.app[INBOX_HANDLERS].register(kind, recording)
    note = _note(alice, "first")
    other = _note(carol, "beside")  # another actor's note: a lane of its own
    await _send(b, carol, [carol.activity("Create", object=other, to=[PUBLIC])])
    await _send(
        b,
        alice,
        [
            alice.activity("Create", object=note, to=[PUBLIC]),
            alice.activity("Update", object={**note, "content": "<p>edited</p>"}, to=[PUBLIC]),
            alice.activity("Delete", object={"id": note["id"], "type": "Tombstone"}, to=[PUBLIC]),
        ],
    )
    assert await process_inbox_once(b.app) == 4  # one cycle, one batch
    assert [x for x in applied if x.endswith("alice")] == [
        "Create alice",
        "Update alice",
        "Delete alice",
    ]
    assert [r.state for r in await activity_rows(b)] == ["done"] * 4
    deleted = await _post(b, note["id"])
    assert deleted is not None and deleted.deleted_at is not None
    kept = await _post(b, other["id"])
    assert kept is not None and kept.deleted_at is None and "beside" in kept.content_html


async def test_an_edit_right_after_its_create_sees_the_post(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    note = _note(alice, "first")
    await _send(
        b,
        alice,
        [
            alice.activity("Create", object=note, to=[PUBLIC]),
            alice.activity("Update", object={**note, "content": "<p>edited</p>"}, to=[PUBLIC]),
        ],
    )
    assert await process_inbox_once(b.app) == 2
    post = await _post(b, note["id"])
    assert "edited" in post.content_html
    async with b.db.read() as conn:
        edits = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.post_edits)
                .where(t.post_edits.c.post_id == post.id)
            )
        ).scalar_one()
    assert edits == 2  # the original and its edit: the Update found the post the Create stored
    assert [r.state for r in await activity_rows(b)] == ["done", "done"]


async def test_a_batch_of_creates_takes_fewer_commits_than_activities(pair) -> None:
    a, b = pair
    signers = [await signer_for(a, "alice")]
    for name in ("carol", "dave", "erin"):
        await a.create_member(name)
        signers.append(await signer_for(a, name))
    for i in range(3):
        for signer in signers:
            doc = signer.activity("Create", object=_note(signer, f"n{i}"), to=[PUBLIC])
            await _send(b, signer, [doc])
    commits = [0]

    def seen(_conn: Any) -> None:
        commits[0] += 1

    event.listen(sa.engine.Engine, "commit", seen)
    try:
        assert await process_inbox_once(b.app) == 12
    finally:
        event.remove(sa.engine.Engine, "commit", seen)
    assert [r.state for r in await activity_rows(b)] == ["done"] * 12
    assert commits[0] < 12  # the claim, the outcomes and a few group commits, not one per note


async def test_a_commit_that_fails_loses_no_activity(pair, monkeypatch) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    notes = [_note(alice, f"n{i}") for i in range(3)]
    await _send(b, alice, [alice.activity("Create", object=n, to=[PUBLIC]) for n in notes])

    async def full_disk(self: Any) -> None:
        await self.rollback()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(group_commit.SyncTransaction, "commit", full_disk)
    monkeypatch.setattr(group_commit.AsyncTransaction, "commit", full_disk)
    assert await process_inbox_once(b.app) == 3
    monkeypatch.undo()
    rows = await activity_rows(b)
    assert [(r.state, r.attempts) for r in rows] == [("new", 1)] * 3  # retried, not done
    assert all("No space left" in (r.last_error or "") for r in rows)
    assert [await _post(b, n["id"]) for n in notes] == [None] * 3
    later = clock.now() + timedelta(minutes=10)
    assert await process_inbox_once(b.app, now=later) == 3
    assert [r.state for r in await activity_rows(b)] == ["done"] * 3
    assert None not in [await _post(b, n["id"]) for n in notes]
