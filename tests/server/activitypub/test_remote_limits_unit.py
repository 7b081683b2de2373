"""Limits on remote objects (docs/limits.md): over a limit a value is cut or the object refused,
never stored as sent. Through one inbox cycle of the application built but never started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from federation import limits
from federation.actors import actor_values
from server.services.text import sanitise_html
from server.storage import schema as t
from server.visibility import PUBLIC_COLLECTION
from tests.fast import KEYS, person_document


def _question(actor_uri: str, n: int, number: int = 1) -> dict[str, Any]:
    return {
        "id": f"{actor_uri}/statuses/q{number}",
        "type": "Question",
        "attributedTo": actor_uri,
        "content": "<p>pick one</p>",
        "to": [PUBLIC_COLLECTION],
        "oneOf": [
            {"type": "Note", "name": f"option {i}", "replies": {"totalItems": i}} for i in range(n)
        ],
    }


async def _inbox_rows(db) -> list[sa.Row]:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return list(await conn.execute(sa.select(t.activities).order_by(t.activities.c.id)))


async def _post(db, uri: str) -> sa.Row | None:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == uri))).first()


async def test_a_poll_of_1000_options_is_refused_and_nothing_stored(wired, remote_actor) -> None:
    question = _question(remote_actor.uri, 1000)
    await wired.receive(remote_actor.activity("Create", object=question), remote_actor)
    await wired.cycle()
    assert await _post(wired.ctx.db, question["id"]) is None
    async with wired.ctx.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.polls))).scalar() == 0
    (row,) = await _inbox_rows(wired.ctx.db)
    assert row.state == "ignored" and "poll options: 1000" in row.last_error


async def test_a_poll_at_the_limit_is_kept_whole_with_its_options_cut(wired, remote_actor) -> None:
    question = _question(remote_actor.uri, limits.POLL_OPTIONS)
    question["oneOf"][0]["name"] = "x" * 5000
    await wired.receive(remote_actor.activity("Create", object=question), remote_actor)
    await wired.cycle()
    post = await _post(wired.ctx.db, question["id"])
    assert post is not None
    async with wired.ctx.db.read() as conn:
        poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == post.id))).one()
    assert len(poll.options) == limits.POLL_OPTIONS
    assert len(poll.options[0]) == limits.POLL_OPTION_CHARS


async def test_an_edit_to_1000_options_leaves_the_poll_as_it_was(wired, remote_actor) -> None:
    first = _question(remote_actor.uri, 3)
    await wired.receive(remote_actor.activity("Create", object=first), remote_actor)
    await wired.cycle()
    edit = _question(remote_actor.uri, 1000)
    await wired.receive(remote_actor.activity("Update", object=edit), remote_actor)
    await wired.cycle()
    post = await _post(wired.ctx.db, first["id"])
    assert post is not None and post.edited_at is None
    async with wired.ctx.db.read() as conn:
        poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == post.id))).one()
    assert poll.options == ["option 0", "option 1", "option 2"]
    assert [r.state for r in await _inbox_rows(wired.ctx.db)] == ["done", "ignored"]


async def test_a_note_over_the_limits_is_cut_or_refused(wired, remote_actor) -> None:
    uri = remote_actor.uri
    note = {
        "id": f"{uri}/statuses/n1",
        "type": "Note",
        "attributedTo": uri,
        "content": "<p>many things</p>",
        "summary": "w" * 5000,
        "to": [PUBLIC_COLLECTION],
        "tag": [{"type": "Hashtag", "name": f"#tag{i}"} for i in range(300)],
        "attachment": [
            {"type": "Image", "mediaType": "image/png", "url": f"https://remote.example/{i}.png"}
            for i in range(40)
        ],
    }
    huge = {
        **note,
        "id": f"{uri}/statuses/n2",
        "content": "<p>" + "a" * limits.CONTENT_CHARS + "</p>",
    }
    crowd = {
        **note,
        "id": f"{uri}/statuses/n3",
        "cc": [f"https://elsewhere.example/users/u{i}" for i in range(limits.RECIPIENTS + 1)],
    }
    for obj in (note, huge, crowd):
        await wired.receive(remote_actor.activity("Create", object=obj), remote_actor)
    await wired.cycle()
    post = await _post(wired.ctx.db, note["id"])
    assert post is not None and len(post.spoiler_text) == limits.SUMMARY_CHARS
    async with wired.ctx.db.read() as conn:
        tags = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.post_tags)
                .where(t.post_tags.c.post_id == post.id)
            )
        ).scalar()
        media = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(t.media).where(t.media.c.post_id == post.id)
            )
        ).scalar()
    assert (tags, media) == (limits.HASHTAGS, limits.ATTACHMENTS)
    assert await _post(wired.ctx.db, huge["id"]) is None
    assert await _post(wired.ctx.db, crowd["id"]) is None
    states = [
        (r.state, (r.last_error or "").split(":")[0]) for r in await _inbox_rows(wired.ctx.db)
    ]
    assert states == [("done", ""), ("ignored", "over_limit"), ("ignored", "over_limit")]


def test_a_remote_profile_is_cut_to_the_limits() -> None:
    _private, public = KEYS.take()
    doc = person_document(
        "big",
        "remote.example",
        public,
        name="N" * 10_000,
        preferredUsername="u" * 10_000,
        summary="<p>" + "b" * 100_000 + "</p>",
        attachment=[
            {"type": "PropertyValue", "name": "k" * 1000, "value": "v" * 100_000}
            for _ in range(200)
        ],
    )
    values = actor_values(doc, doc["id"], sanitise_html)
    assert len(values["display_name"]) == limits.DISPLAY_NAME_CHARS
    assert len(values["username"]) == limits.USERNAME_CHARS
    assert limits.BIO_CHARS - 10 < len(values["summary_html"]) <= limits.BIO_CHARS + 10
    assert len(values["fields"]) == limits.PROFILE_FIELDS
    assert {len(f["name"]) for f in values["fields"]} == {limits.FIELD_NAME_CHARS}
    assert {len(f["value"]) for f in values["fields"]} == {limits.FIELD_VALUE_CHARS}


def test_the_limits_table_names_every_limit_with_its_value() -> None:
    table = (Path(__file__).parents[3] / "docs" / "limits.md").read_text()
    numbers = {
        name: value
        for name, value in vars(limits).items()
        if name.isupper() and isinstance(value, int) and name != "BODY_BYTES"
    }
    assert len(numbers) > 20
    for name, value in numbers.items():
        assert f"| {value:,} |" in table or f" {value:,} " in table, name
    assert limits.BODY_BYTES == 1024 * 1024 and "1 MiB" in table


async def test_numbers_out_of_range_are_read_as_absent_not_retried(wired, remote_actor) -> None:
    """The inbox fuzzer's find: a width of 2**70 failed the insert (retried for ever); numbers
    outside a column's range are now absent and a focal point is kept within [-1, 1]."""
    odd = [2**70, -5, 0, True, 2**31]
    for n, width in enumerate(odd):
        note = {
            "id": f"{remote_actor.uri}/statuses/w{n}",
            "type": "Note",
            "attributedTo": remote_actor.uri,
            "content": "<p>a picture</p>",
            "to": [PUBLIC_COLLECTION],
            "attachment": [
                {
                    "type": "Image",
                    "url": "https://remote.example/a.png",
                    "width": width,
                    "height": 2**63,
                    "focalPoint": [1e308, -1e308],
                }
            ],
        }
        await wired.receive(remote_actor.activity("Create", object=note), remote_actor)
    await wired.cycle()
    assert [r.state for r in await _inbox_rows(wired.ctx.db)] == ["done"] * len(odd)
    async with wired.ctx.db.read() as conn:
        media = list(await conn.execute(sa.select(t.media)))
    assert {(m.width, m.height, m.focus_x, m.focus_y) for m in media} == {(None, None, 1.0, -1.0)}
