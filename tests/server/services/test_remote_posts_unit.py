"""Remote posts kept as rows without a server: stored with their content, a reply counted on its
parent and in its community, an edit with history, a boost taken back; and the lookups of actors
and of activities named by id that the inbox handlers use."""

from __future__ import annotations

import sqlalchemy as sa

from server import clock
from server.services import activity_ids, actors, posts, remote_posts
from server.services.posts import Draft
from server.services.remote_posts import RemoteContent, RemotePost
from server.storage import schema as t


def _content(text: str = "<p>hi</p>", **more) -> RemoteContent:  # type: ignore[no-untyped-def]
    values = {
        "kind": "note",
        "title": None,
        "content_html": text,
        "spoiler_text": "",
        "sensitive": False,
        "language": None,
    }
    return RemoteContent(values=values, **more)


def _post(uri: str, content: RemoteContent, **more) -> RemotePost:  # type: ignore[no-untyped-def]
    return RemotePost(
        uri=uri, url=uri, audience="public", content=content, created_at=clock.now(), **more
    )


async def test_a_remote_reply_counts_on_its_parent_and_names_only_known_actors(
    ctx, member, remote_actor
) -> None:
    parent_id = await posts.create_post(ctx, member.actor_id, Draft(source="hello"))
    async with ctx.db.read() as conn:
        parent = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == parent_id))).one()
    content = _content(
        mention_uris=(parent.uri.split("/posts/")[0], "https://nowhere.example/u/x"),
        tags=("garden",),
        media=(
            {
                "kind": "image",
                "remote_url": "https://remote.example/a.png",
                "mime_type": "image/png",
                "description": "",
                "blurhash": None,
                "focus_x": 0.0,
                "focus_y": 0.0,
                "position": 0,
                "width": None,
                "height": None,
            },
        ),
    )
    uri = f"{remote_actor.uri}/statuses/1"
    async with ctx.db.write() as conn:
        post_id = await remote_posts.store_post(
            conn, remote_actor.id, _post(uri, content, in_reply_to_uri=parent.uri)
        )
    async with ctx.db.read() as conn:
        row = await remote_posts.post_by_uri(conn, uri)
        assert row is not None and row.id == post_id and row.in_reply_to_id == parent_id
        counted = (
            await conn.execute(sa.select(t.posts.c.replies_count).where(t.posts.c.id == parent_id))
        ).scalar_one()
        assert counted == 1
        mentioned = [r[0] for r in await conn.execute(sa.select(t.post_mentions.c.actor_id))]
        assert mentioned == [member.actor_id]
        assert [r[0] for r in await conn.execute(sa.select(t.post_tags.c.tag))] == ["garden"]
        media = list(await conn.execute(sa.select(t.media).where(t.media.c.post_id == post_id)))
        assert [(m.owner_id, m.remote_url) for m in media] == [
            (remote_actor.id, "https://remote.example/a.png")
        ]


async def test_an_edit_keeps_the_first_version_and_the_kind(ctx, remote_actor) -> None:
    uri = f"{remote_actor.uri}/statuses/2"
    async with ctx.db.write() as conn:
        post_id = await remote_posts.store_post(conn, remote_actor.id, _post(uri, _content()))
    edited = _content("<p>edited</p>")
    edited.values["kind"] = "article"
    async with ctx.db.write() as conn:
        row = await remote_posts.post_by_uri(conn, uri)
        assert row is not None
        await remote_posts.apply_edit(conn, row, edited, clock.now())
    async with ctx.db.read() as conn:
        row = await remote_posts.post_by_uri(conn, uri)
        versions = [
            r.content_html
            for r in await conn.execute(
                sa.select(t.post_edits)
                .where(t.post_edits.c.post_id == post_id)
                .order_by(t.post_edits.c.id)
            )
        ]
    assert row is not None and row.kind == "note" and row.content_html == "<p>edited</p>"
    assert versions == ["<p>hi</p>", "<p>edited</p>"]


async def test_a_boost_taken_back_is_wiped_and_uncounted(ctx, member, remote_actor) -> None:
    original = await posts.create_post(ctx, member.actor_id, Draft(source="boost me"))
    boost_uri = f"{remote_actor.uri}/statuses/3/activity"
    async with ctx.db.write() as conn:
        await posts.receive_boost(conn, remote_actor.id, original, boost_uri)
        assert await activity_ids.activity_type_of(conn, boost_uri) == "Announce"
        assert not await remote_posts.receive_unboost(conn, member.actor_id, boost_uri)
        assert await remote_posts.receive_unboost(conn, remote_actor.id, boost_uri)
    async with ctx.db.read() as conn:
        boost = await remote_posts.post_by_uri(conn, boost_uri)
        count = (
            await conn.execute(sa.select(t.posts.c.reblogs_count).where(t.posts.c.id == original))
        ).scalar_one()
        assert await activity_ids.activity_type_of(conn, "https://nowhere.example/x") is None
    assert boost is not None and boost.deleted_at is not None and count == 0


async def test_actors_are_found_by_uri_name_and_group(ctx, member, remote_actor) -> None:
    async with ctx.db.read() as conn:
        rosa = await actors.actor_by_uri(conn, remote_actor.uri)
        assert rosa is not None and rosa.id == remote_actor.id
        assert await actors.actor_by_uri(conn, None) is None
        assert await actors.local_person_id(conn, member.username) == member.actor_id
        assert await actors.local_person_id(conn, "nobody") is None
        ana = await actors.local_actor(conn, member.username.upper(), "person")
        assert ana is not None and ana.id == member.actor_id
        assert await actors.ids_of_uris(conn, [remote_actor.uri, "https://x.example/u"]) == [
            remote_actor.id
        ]


async def test_the_members_of_a_group_sign_oldest_first(ctx, wired, make_member) -> None:
    """Our accepted people following a Group, oldest first and bounded; not the pending ones."""
    group = await wired.remote_actor("garden", type="Group")
    ana, bo, cy = await make_member("ana"), await make_member("bo"), await make_member("cy")
    async with ctx.db.write() as conn:
        for person, state in ((ana, "accepted"), (bo, "accepted"), (cy, "pending")):
            await conn.execute(
                t.follows.insert().values(
                    follower_id=person.actor_id,
                    target_id=group.id,
                    state=state,
                    uri=f"{ctx.base}/follows/{person.actor_id}",
                    created_at=clock.now(),
                )
            )
    async with ctx.db.read() as conn:
        assert await actors.local_members_of_group(conn, group.uri, 3) == [
            ana.actor_id,
            bo.actor_id,
        ]
        assert await actors.local_members_of_group(conn, group.uri, 1) == [ana.actor_id]
