"""The inbox worker's lanes: activities sharing an object in order, the others side by side."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from federation.inbox import process_inbox_once
from federation.inbox_worker import lanes, touches
from federation.state import INBOX_HANDLERS
from tests.federation.conftest import activity_rows, post_activity, signer_for

pytestmark = pytest.mark.slow


def _row(i: int, doc: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(id=i, document=doc)


def test_touches_names_actor_object_target_and_inner_object() -> None:
    undo = {
        "actor": "https://a/u/1",
        "object": {"id": "https://a/like/1", "object": "https://b/note/1"},
        "target": {"id": "https://b/c/1"},
    }
    assert touches(undo) == {
        "https://a/u/1",
        "https://a/like/1",
        "https://b/note/1",
        "https://b/c/1",
    }


def test_lanes_join_rows_sharing_an_id_transitively_and_keep_their_order() -> None:
    rows = [
        _row(1, {"actor": "u1", "object": "n1"}),
        _row(2, {"actor": "u2", "object": "n2"}),
        _row(3, {"actor": "u3", "object": "n1"}),  # with 1 (same object)
        _row(4, {"actor": "u3", "object": "n4"}),  # with 3 (same actor), so with 1
        _row(5, {"actor": "u5", "object": {"id": "n5", "object": "n2"}}),  # with 2
        _row(6, {"actor": "u6"}),
    ]
    got = sorted([r.id for r in lane] for lane in lanes(rows))
    assert got == [[1, 3, 4], [2, 5], [6]]


async def test_activities_on_different_objects_run_side_by_side_same_object_in_order(
    pair,
) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    order: list[str] = []
    running = {"now": 0, "most": 0}

    async def like(app, activity, signer_id):
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(0.05)
        order.append(activity["object"])
        running["now"] -= 1

    b.app[INBOX_HANDLERS].register("Like", like)
    # alice's activities share their actor: one lane, in arrival order.
    for name in ("x1", "x2", "x3"):
        status, _ = await post_activity(
            f"{b.url}/inbox", alice.activity("Like", object=f"{alice.uri}/{name}"), alice
        )
        assert status == 202
    assert await process_inbox_once(b.app) == 3
    assert order == [f"{alice.uri}/{n}" for n in ("x1", "x2", "x3")]
    assert running["most"] == 1
    assert {r.state for r in await activity_rows(b)} == {"done"}


async def test_activities_of_different_actors_on_different_objects_overlap(pair) -> None:
    a, b = pair
    await a.create_member("carol")
    signers = [await signer_for(a, "alice"), await signer_for(a, "carol")]
    running = {"now": 0, "most": 0}

    async def like(app, activity, signer_id):
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(0.05)
        running["now"] -= 1

    b.app[INBOX_HANDLERS].register("Like", like)
    for signer in signers:
        doc = signer.activity("Like", object=f"{signer.uri}/own-note")
        assert (await post_activity(f"{b.url}/inbox", doc, signer))[0] == 202
    assert await process_inbox_once(b.app) == 2
    assert running["most"] == 2
    assert [r.state for r in await activity_rows(b)] == ["done", "done"]
