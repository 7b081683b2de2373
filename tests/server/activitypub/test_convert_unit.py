"""The ActivityPub converters both ways against a real database, without a server: a local
post's object and addressing for every audience, and remote objects stored as posts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.activitypub.core import convert
from server.activitypub.core.ingest import post_from_activity, update_from_activity, wipe_post
from server.activitypub.posts.objects import load_post
from server.errors import NotFound
from server.services import follows, posts
from server.services.posts import Draft, PollSpec
from server.storage import schema as t
from server.visibility import PUBLIC_COLLECTION, Audience
from tests.conftest import UNIT_URL

A = Audience
PUBLIC = PUBLIC_COLLECTION
ANA = f"{UNIT_URL}/users/ana"


async def _object(ctx, post_id):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        parts = await load_post(conn, ctx.base, ctx.settings.domain, post_id)
    return convert.to_object(parts, ctx.base)


async def _row(ctx, uri_or_id):  # type: ignore[no-untyped-def]
    col = t.posts.c.id if isinstance(uri_or_id, int) else t.posts.c.uri
    async with ctx.db.read() as conn:
        return (await conn.execute(sa.select(t.posts).where(col == uri_or_id))).one()


async def _author(ctx, actor_id):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()


async def _store(ctx, remote_actor, doc):  # type: ignore[no-untyped-def]
    author = await _author(ctx, remote_actor.id)
    async with ctx.db.write() as conn:
        return await post_from_activity(conn, doc, author)


def _note(remote_actor, n=1, **fields):  # type: ignore[no-untyped-def]
    doc = {
        "id": f"{remote_actor.uri}/statuses/{n}",
        "type": "Note",
        "attributedTo": remote_actor.uri,
        "content": "<p>hello</p>",
        "published": "2026-03-01T10:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{remote_actor.uri}/followers"],
    }
    doc.update(fields)
    return doc


# --- local posts out -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "to", "cc"),
    [
        (A.PUBLIC, [PUBLIC], [f"{ANA}/followers", "https://remote.example/users/rosa"]),
        (A.UNLISTED, [f"{ANA}/followers"], [PUBLIC, "https://remote.example/users/rosa"]),
        (A.FOLLOWERS, [f"{ANA}/followers"], ["https://remote.example/users/rosa"]),
        (A.PARTNERS, [f"{UNIT_URL}/partners"], ["https://remote.example/users/rosa"]),
        (A.DIRECT, ["https://remote.example/users/rosa"], []),
    ],
)
async def test_a_local_post_is_addressed_as_its_audience_says(
    ctx, member, remote_actor, audience, to, cc
) -> None:
    pid = await posts.create_post(
        ctx,
        member.actor_id,
        Draft(source="hi @rosa@remote.example #Soil", audience=audience, language="en"),
    )
    doc = await _object(ctx, pid)
    assert (doc["type"], doc["attributedTo"], doc["to"], doc["cc"]) == ("Note", ANA, to, cc)
    assert doc["koers:audience"] == audience.value
    assert doc["contentMap"] == {"en": doc["content"]}
    assert {"type": "Mention", "href": remote_actor.uri, "name": "@rosa@remote.example"} in doc[
        "tag"
    ]
    assert {"type": "Hashtag", "href": f"{UNIT_URL}/tags/soil", "name": "#soil"} in doc["tag"]


async def test_a_members_post_never_becomes_an_object(ctx, member) -> None:
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="x", audience=A.MEMBERS))
    with pytest.raises(NotFound, match="does not leave"):
        await _object(ctx, pid)


async def test_a_community_post_is_addressed_to_its_group(ctx, crew) -> None:
    pid = await posts.create_post(
        ctx,
        crew.ana.actor_id,
        Draft(source="garden", audience=A.COMMUNITY, community_id=crew.community.id),
    )
    doc = await _object(ctx, pid)
    assert doc["to"] == [crew.community.uri] and doc["audience"] == crew.community.uri
    assert doc["koers:community"] == crew.community.uri


async def test_a_reply_an_edit_and_a_cw_show_in_the_object(ctx, member, make_member) -> None:
    bo = await make_member("bo")
    root = await posts.create_post(ctx, bo.actor_id, Draft(source="root"))
    pid = await posts.create_post(
        ctx, member.actor_id, Draft(source="reply", spoiler_text="spoilers", in_reply_to_id=root)
    )
    await posts.edit_post(ctx, member.actor_id, pid, source="edited reply")
    doc = await _object(ctx, pid)
    assert doc["inReplyTo"] == f"{UNIT_URL}/users/bo/posts/{root}"
    assert doc["summary"] == "spoilers" and doc["sensitive"] is True
    assert "edited reply" in doc["content"] and doc["updated"]
    assert (await _object(ctx, root))["replies"] == {"type": "Collection", "totalItems": 1}


async def test_a_result_is_an_article_with_its_koers_terms(ctx, crew) -> None:
    pid = await posts.create_post(
        ctx,
        crew.ana.actor_id,
        Draft(
            source="We built it",
            kind="result",
            title="The shed",
            community_id=crew.community.id,
            contributor_ids=(crew.bo.actor_id,),
        ),
    )
    doc = await _object(ctx, pid)
    assert doc["type"] == "Article" and doc["name"] == "The shed" and doc["koers:result"] is True
    assert set(doc["koers:contributors"]) == {ANA, f"{UNIT_URL}/users/bo"}


async def test_a_poll_is_a_question(ctx, member) -> None:
    pid = await posts.create_post(
        ctx,
        member.actor_id,
        Draft(source="Which?", poll=PollSpec(options=("kale", "leek"), expires_in=600)),
    )
    doc = await _object(ctx, pid)
    assert doc["type"] == "Question" and [o["name"] for o in doc["oneOf"]] == ["kale", "leek"]
    assert doc["endTime"] and doc["votersCount"] == 0


async def test_create_delete_and_undo_activities_keep_the_addressing(ctx, member) -> None:
    pid = await posts.create_post(ctx, member.actor_id, Draft(source="x", audience=A.FOLLOWERS))
    obj = await _object(ctx, pid)
    create = convert.wrap_post(ctx.base, "Create", obj, activity_id=f"{obj['id']}/activity")
    assert (create["type"], create["actor"], create["to"]) == ("Create", ANA, obj["to"])
    assert "@context" not in create["object"] and create["object"]["id"] == obj["id"]
    undo = convert.undo(ctx.base, activity_id=f"{ANA}#undo", actor=ANA, inner=create)
    assert undo["object"]["type"] == "Create" and undo["to"] == obj["to"]


# --- remote objects in -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "cc", "audience"),
    [
        ([PUBLIC], ["{uri}/followers"], "public"),
        (["{uri}/followers"], [PUBLIC], "unlisted"),
        (["as:Public"], [], "public"),
        (["{uri}/followers"], [], "followers"),
        (["https://remote.example/partners"], [], "partners"),
        ([ANA], [], "direct"),
        (["https://remote.example/some/collection"], [], "direct"),
        ([], [], "direct"),
    ],
)
async def test_a_remote_objects_audience_comes_from_its_addressing(
    ctx, member, remote_actor, to, cc, audience
) -> None:
    fill = {"uri": remote_actor.uri}
    doc = _note(remote_actor, to=[x.format(**fill) for x in to], cc=[x.format(**fill) for x in cc])
    pid, created = await _store(ctx, remote_actor, doc)
    row = await _row(ctx, pid)
    assert created and row.audience == audience and not row.local
    assert row.author_id == remote_actor.id and row.uri == doc["id"]


async def test_a_remote_object_addressed_to_a_known_community_belongs_to_it(
    ctx, crew, remote_actor
) -> None:
    doc = _note(remote_actor, to=[crew.community.uri], cc=[], audience=crew.community.uri)
    pid, _ = await _store(ctx, remote_actor, doc)
    row = await _row(ctx, pid)
    assert (row.audience, row.community_id) == ("community", crew.community.id)


async def test_remote_html_is_sanitised_and_its_parts_kept(ctx, member, remote_actor) -> None:
    doc = _note(
        remote_actor,
        content='<p onclick="x()">hi <script>alert(1)</script><a href="https://ok.example">ok</a></p>',
        summary="<b>cw</b>",
        contentMap={"nl": "<p>hoi</p>"},
        tag=[
            {"type": "Hashtag", "name": "#Compost"},
            {"type": "Mention", "href": ANA, "name": "@ana"},
            "garbage",
        ],
    )
    pid, _ = await _store(ctx, remote_actor, doc)
    row = await _row(ctx, pid)
    assert "onclick" not in row.content_html and "<script" not in row.content_html
    assert 'href="https://ok.example"' in row.content_html
    assert (row.spoiler_text, row.sensitive, row.language) == ("cw", True, "nl")
    assert row.created_at.year == 2026 and row.created_at.month == 3
    async with ctx.db.read() as conn:
        assert [r.tag for r in await conn.execute(sa.select(t.post_tags))] == ["compost"]
        assert [r.actor_id for r in await conn.execute(sa.select(t.post_mentions))] == [
            member.actor_id
        ]


async def test_the_same_object_is_stored_once(ctx, remote_actor) -> None:
    first = await _store(ctx, remote_actor, _note(remote_actor))
    again = await _store(ctx, remote_actor, _note(remote_actor, content="<p>changed</p>"))
    assert first[1] is True and again == (first[0], False)
    assert "hello" in (await _row(ctx, first[0])).content_html


async def test_an_object_without_an_id_is_refused(ctx, remote_actor) -> None:
    with pytest.raises(ValueError):
        await _store(ctx, remote_actor, _note(remote_actor, id=None))


async def test_a_remote_reply_joins_the_thread_and_counts(ctx, member, remote_actor) -> None:
    root = await posts.create_post(ctx, member.actor_id, Draft(source="root"))
    root_uri = (await _row(ctx, root)).uri
    pid, _ = await _store(ctx, remote_actor, _note(remote_actor, inReplyTo=root_uri))
    row = await _row(ctx, pid)
    assert (row.in_reply_to_id, row.thread_root_id, row.in_reply_to_uri) == (root, root, root_uri)
    assert (await _row(ctx, root)).replies_count == 1
    orphan, _ = await _store(
        ctx, remote_actor, _note(remote_actor, 2, inReplyTo="https://else.example/x")
    )
    assert (await _row(ctx, orphan)).in_reply_to_id is None


async def test_a_remote_question_keeps_its_options(ctx, remote_actor) -> None:
    doc = _note(
        remote_actor,
        type="Question",
        anyOf=[
            {"type": "Note", "name": "kale", "replies": {"totalItems": 3}},
            {"type": "Note", "name": "leek", "replies": {"totalItems": 1}},
        ],
        endTime="2026-03-02T10:00:00Z",
    )
    pid, _ = await _store(ctx, remote_actor, doc)
    async with ctx.db.read() as conn:
        poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == pid))).one()
    assert poll.options == ["kale", "leek"] and poll.multiple
    assert list(poll.remote_counts) == [3, 1]


async def test_a_remote_article_and_result(ctx, remote_actor) -> None:
    art, _ = await _store(
        ctx, remote_actor, _note(remote_actor, type="Article", name="On <b>soil</b>")
    )
    res, _ = await _store(
        ctx, remote_actor, _note(remote_actor, 2, **{"koers:result": True, "name": "Done"})
    )
    assert ((await _row(ctx, art)).kind, (await _row(ctx, art)).title) == ("article", "On soil")
    assert ((await _row(ctx, res)).kind, (await _row(ctx, res)).title) == ("result", "Done")


async def test_a_remote_edit_keeps_history_and_a_delete_wipes(ctx, member, remote_actor) -> None:
    pid, _ = await _store(
        ctx, remote_actor, _note(remote_actor, tag=[{"type": "Hashtag", "name": "#a"}])
    )
    await posts.favourite(ctx, member.actor_id, pid)
    async with ctx.db.write() as conn:
        row = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == pid))).one()
        await update_from_activity(
            conn,
            _note(remote_actor, content="<p>edited</p>", updated="2026-03-01T11:00:00Z"),
            row,
        )
    row = await _row(ctx, pid)
    assert "edited" in row.content_html and row.edited_at is not None
    async with ctx.db.read() as conn:
        edits = list(
            await conn.execute(sa.select(t.post_edits).where(t.post_edits.c.post_id == pid))
        )
        assert [("hello" in e.content_html, "edited" in e.content_html) for e in edits] == [
            (True, False),
            (False, True),
        ]
        assert list(await conn.execute(sa.select(t.post_tags))) == []
    async with ctx.db.write() as conn:
        await wipe_post(conn, row)
    row = await _row(ctx, pid)
    assert row.content_html == "" and row.deleted_at is not None
    async with ctx.db.read() as conn:
        assert list(await conn.execute(sa.select(t.favourites))) == []


async def test_a_round_trip_keeps_the_audience(ctx, member, wired) -> None:
    """A Koers object read back by another Koers: for each federated audience, the same one."""
    bo = await wired.remote_actor("bo", "koers.partner.example")
    await follows.follow(ctx, member.actor_id, bo.id)
    for n, audience in enumerate([A.PUBLIC, A.UNLISTED, A.FOLLOWERS, A.DIRECT], start=1):
        pid = await posts.create_post(
            ctx, member.actor_id, Draft(source=f"@bo@koers.partner.example {n}", audience=audience)
        )
        doc = await _object(ctx, pid)
        # The same document as published by bo's server: ids and collections on its host.
        moved = {
            **doc,
            "id": f"{bo.uri}/posts/{n}",
            "attributedTo": bo.uri,
            "to": [x.replace(f"{ANA}/followers", f"{bo.uri}/followers") for x in doc["to"]],
            "cc": [x.replace(f"{ANA}/followers", f"{bo.uri}/followers") for x in doc["cc"]],
        }
        if audience is A.DIRECT:
            moved["to"] = [ANA]
        stored, _ = await _store(ctx, bo, moved)
        assert (await _row(ctx, stored)).audience == audience.value
