"""The inbox worker's batch path for plain ``Create`` activities gives every activity the outcome
it has one by one: the same posts, mentions, tags, attachments, reply counts, notifications and
home feed rows, the same states; what it cannot take (a reply to a note of the same batch, a
second Create of one note, a Create followed by its Update and Delete) goes one by one, in order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from federation.inbox import process_inbox_once
from federation.state import INBOX_HANDLERS
from server import clock
from server.activitypub.core.inbound import route
from server.activitypub.posts import inbound_batch
from server.services import home_feed, posts
from server.services.posts import Draft
from server.storage import schema as t
from tests.federation.conftest import Signer, activity_rows, post_activity, signer_for

pytestmark = pytest.mark.slow

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(signer: Signer, content: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"{signer.uri}/notes/{uuid.uuid4().hex}",
        "type": "Note",
        "attributedTo": signer.uri,
        "to": [PUBLIC],
        "cc": [f"{signer.uri}/followers"],
        "content": f"<p>{content}</p><script>x()</script>",
        "published": "2026-12-01T10:00:00Z",
        **fields,
    }


def _scenario(
    alice: Signer, carol: Signer, bob_uri: str, bob_post: str
) -> tuple[list[tuple[Signer, dict[str, Any]]], list[str]]:
    """The activities of one run (in arrival order) and the ids of the notes they name."""
    mention = {"type": "Mention", "href": bob_uri, "name": "@bob"}
    tagged = _note(
        alice,
        "tagged",
        tag=[mention, {"type": "Hashtag", "name": "#Koers"}, {"type": "Hashtag", "name": "#b"}],
        attachment=[
            {"type": "Image", "url": "https://files.example/a.png", "mediaType": "image/png"}
        ],
    )
    reply = _note(alice, "to bob", inReplyTo=bob_post)
    direct = _note(alice, "just you", to=[bob_uri], cc=[], tag=[mention])
    first = _note(carol, "first")
    answer = _note(carol, "answer", inReplyTo=first["id"])  # its parent is in the same batch
    edited = _note(carol, "to be edited")
    docs = [
        (alice, alice.activity("Create", object=tagged, to=[PUBLIC])),
        (carol, carol.activity("Create", object=first, to=[PUBLIC])),
        (alice, alice.activity("Create", object=reply, to=[PUBLIC])),
        (carol, carol.activity("Create", object=edited, to=[PUBLIC])),
        (carol, carol.activity("Create", object=answer, to=[PUBLIC])),
        (alice, alice.activity("Create", object=direct, to=[bob_uri])),
        (alice, alice.activity("Create", object=tagged, to=[PUBLIC])),  # a second Create of it
        (
            carol,
            carol.activity("Update", object={**edited, "content": "<p>edited</p>"}, to=[PUBLIC]),
        ),
        (carol, carol.activity("Delete", object={"id": edited["id"], "type": "Tombstone"})),
    ]
    return docs, [tagged["id"], first["id"], reply["id"], answer["id"], direct["id"], edited["id"]]


async def _facts(b: Any, notes: list[str], bob_id: int, bob_post: str) -> list[Any]:
    """What the run left, with the notes named by their place in the run (ids differ)."""
    names = {uri: f"note{n}" for n, uri in enumerate(notes)} | {bob_post: "bob's post"}
    out: list[Any] = []
    async with b.db.read() as conn:
        for uri in notes:
            p = (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == uri))).one()
            parent = None
            if p.in_reply_to_id is not None:
                parent = (
                    await conn.execute(
                        sa.select(t.posts.c.uri).where(t.posts.c.id == p.in_reply_to_id)
                    )
                ).scalar_one()

            async def column(stmt: Any) -> list[Any]:
                return sorted(tuple(r) for r in await conn.execute(stmt))  # noqa: B023

            out.append(
                {
                    "content": p.content_html,
                    "audience": p.audience,
                    "kind": p.kind,
                    "deleted": p.deleted_at is not None,
                    "edited": p.edited_at is not None,
                    "parent": names.get(parent) if parent else None,
                    "root": p.thread_root_id is not None,
                    "replies": p.replies_count,
                    "tags": await column(
                        sa.select(t.post_tags.c.tag).where(t.post_tags.c.post_id == p.id)
                    ),
                    "mentions": await column(
                        sa.select(t.actors.c.username)
                        .join(t.post_mentions, t.post_mentions.c.actor_id == t.actors.c.id)
                        .where(t.post_mentions.c.post_id == p.id)
                    ),
                    "media": await column(
                        sa.select(t.media.c.remote_url, t.media.c.kind, t.media.c.position).where(
                            t.media.c.post_id == p.id
                        )
                    ),
                    "told": await column(
                        sa.select(t.notifications.c.type).where(
                            t.notifications.c.post_id == p.id,
                            t.notifications.c.actor_id == bob_id,
                        )
                    ),
                    "in_feed": await column(
                        sa.select(t.home_feed_entries.c.actor_id).where(
                            t.home_feed_entries.c.post_id == p.id
                        )
                    ),
                }
            )
        bob = (
            await conn.execute(sa.select(t.posts.c.replies_count).where(t.posts.c.uri == bob_post))
        ).scalar_one()
    out.append({"bob's replies": bob})
    return out


async def _run(b: Any, docs: list[tuple[Signer, dict[str, Any]]]) -> list[str]:
    for signer, doc in docs:
        status, text = await post_activity(f"{b.url}/inbox", doc, signer)
        assert status == 202, text
    before = len(await activity_rows(b))
    while await process_inbox_once(b.app):
        pass
    return [r.state for r in (await activity_rows(b))[before - len(docs) :]]


async def test_a_batch_of_creates_leaves_what_one_by_one_leaves(pair, monkeypatch) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    await a.create_member("carol")
    carol = await signer_for(a, "carol")
    bob = await signer_for(b, "bob")
    async with b.db.read() as conn:
        bob_id = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == bob.uri))
        ).scalar_one()
    bob_post_id = await posts.create_post(b.ctx, bob_id, Draft(source="bob's post"))
    async with b.db.read() as conn:
        bob_post = (
            await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.id == bob_post_id))
        ).scalar_one()
    # Bob follows alice and carol, asking to be told of their posts; his feed is built.
    for signer in (alice, carol):
        status, _ = await post_activity(
            f"{b.url}/inbox", signer.activity("Like", object=bob_post), signer
        )
        assert status == 202
    while await process_inbox_once(b.app):
        pass
    async with b.db.write() as conn:
        for signer in (alice, carol):
            target = (
                await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == signer.uri))
            ).scalar_one()
            await conn.execute(
                t.follows.insert().values(
                    follower_id=bob_id,
                    target_id=target,
                    state="accepted",
                    notify=True,
                    uri=f"{bob.uri}/follows/{target}",
                    created_at=clock.now(),
                )
            )
        await conn.run_sync(home_feed.rebuild, bob_id)

    batched: list[int] = []
    create_batch = inbound_batch.create_batch

    async def counting(app: Any, lanes: list[list[Any]]) -> list[int]:
        counts = await create_batch(app, lanes)
        batched.append(sum(counts))
        return counts

    b.app[INBOX_HANDLERS].register_batch("Create", counting)
    docs, notes = _scenario(alice, carol, bob.uri, bob_post)
    states = await _run(b, docs)
    with_batch = await _facts(b, notes, bob_id, bob_post)
    assert sum(batched) == 5  # tagged, first, reply, direct, edited; not the answer nor the copy

    b.app[INBOX_HANDLERS].register("Create", route)  # one by one, as before the batch path
    docs, notes = _scenario(alice, carol, bob.uri, bob_post)
    assert await _run(b, docs) == states
    one_by_one = await _facts(b, notes, bob_id, bob_post)
    assert sum(batched) == 5
    assert with_batch[:-1] == one_by_one[:-1]
    assert with_batch[-1] == {"bob's replies": 1} and one_by_one[-1] == {"bob's replies": 2}
    assert states == ["done"] * 9
    assert with_batch[0]["tags"] == [("b",), ("koers",)] and with_batch[0]["mentions"] == [("bob",)]
    assert with_batch[0]["told"] == [("mention",)] and with_batch[1]["told"] == [("status",)]
    assert with_batch[3]["parent"] == "note1" and with_batch[1]["replies"] == 1
    assert with_batch[5]["deleted"] and "script" not in with_batch[0]["content"]
    assert with_batch[0]["in_feed"] == [(bob_id,)]


async def test_a_batch_that_fails_is_applied_one_by_one(pair, monkeypatch) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    notes = [_note(alice, f"n{i}") for i in range(3)]
    for note in notes:
        status, _ = await post_activity(
            f"{b.url}/inbox", alice.activity("Create", object=note, to=[PUBLIC]), alice
        )
        assert status == 202

    async def broken(*_args: Any) -> Any:
        raise RuntimeError("a batch statement failed")

    monkeypatch.setattr(inbound_batch.remote_posts_batch, "store_posts", broken)
    assert await process_inbox_once(b.app) == 3
    assert [r.state for r in await activity_rows(b)] == ["done"] * 3
    async with b.db.read() as conn:
        stored = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.posts)
                .where(t.posts.c.uri.in_([n["id"] for n in notes]))
            )
        ).scalar_one()
    assert stored == 3


async def test_a_cycle_of_plain_creates_takes_two_commits(pair) -> None:
    a, b = pair
    alice = await signer_for(a, "alice")
    await a.create_member("carol")
    carol = await signer_for(a, "carol")
    for i in range(4):
        for signer in (alice, carol):
            doc = signer.activity("Create", object=_note(signer, f"n{i}"), to=[PUBLIC])
            status, _ = await post_activity(f"{b.url}/inbox", doc, signer)
            assert status == 202
    commits = [0]

    def seen(_conn: Any) -> None:
        commits[0] += 1

    sa.event.listen(sa.engine.Engine, "commit", seen)
    try:
        assert await process_inbox_once(b.app) == 8
    finally:
        sa.event.remove(sa.engine.Engine, "commit", seen)
    assert [r.state for r in await activity_rows(b)] == ["done"] * 8
    assert commits[0] == 2  # the claim; the batch with the cycle's outcomes
