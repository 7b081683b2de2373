"""The real Mastodon.py client against a real instance: the everyday things a member does."""

from __future__ import annotations

import io

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonNotFoundError
from PIL import Image

from tests.api.conftest import in_thread, mastodon_for


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


async def test_post_read_reply_boost_favourite_edit_delete(instance):
    await instance.create_member("alice")
    await instance.create_member("bob")
    alice = await mastodon_for(instance, "alice")
    bob = await mastodon_for(instance, "bob")

    me = await in_thread(alice.account_verify_credentials)
    assert me.acct == "alice" and me.source.privacy == "public"

    status = await in_thread(alice.status_post, "Hello #koers world", visibility="public")
    assert status.visibility == "public" and "koers" in [t.name for t in status.tags]
    assert status.koers["audience"] == "public"

    reply = await in_thread(bob.status_post, "@alice hi back", in_reply_to_id=status.id)
    assert reply.in_reply_to_id == status.id and reply.in_reply_to_account_id == me.id

    boosted = await in_thread(bob.status_reblog, status.id)
    assert boosted.reblog.id == status.id
    fav = await in_thread(bob.status_favourite, status.id)
    assert fav.favourited is True and fav.favourites_count == 1

    ctx = await in_thread(alice.status_context, status.id)
    assert [s.id for s in ctx.descendants] == [reply.id]

    edited = await in_thread(alice.status_update, status.id, "Hello edited #koers")
    assert "edited" in edited.content and edited.edited_at is not None
    history = await in_thread(alice.status_history, status.id)
    assert len(history) == 2

    notes = await in_thread(alice.notifications)
    assert {"mention", "reblog", "favourite"} <= {n.type for n in notes}

    # bob cannot edit or delete alice's post
    with pytest.raises(MastodonAPIError):
        await in_thread(bob.status_delete, status.id)
    deleted = await in_thread(alice.status_delete, status.id)
    assert deleted.text == "Hello edited #koers"
    with pytest.raises(MastodonNotFoundError):
        await in_thread(bob.status, status.id)


async def test_visibility_who_can_read(instance):
    for name in ("author", "follower", "member"):
        await instance.create_member(name)
    author = await mastodon_for(instance, "author")
    follower = await mastodon_for(instance, "follower")
    member = await mastodon_for(instance, "member")
    author_id = (await in_thread(author.account_verify_credentials)).id
    rel = await in_thread(follower.account_follow, author_id)
    assert rel.following

    posts = {
        v: await in_thread(author.status_post, f"a {v} post", visibility=v)
        for v in ("public", "unlisted", "private", "direct")
    }
    anon = Mastodon(api_base_url=instance.url, version_check_mode="none")

    def readable(client: Mastodon) -> set[str]:
        out = set()
        for v, s in posts.items():
            try:
                client.status(s.id)
                out.add(v)
            except MastodonNotFoundError:
                pass
        return out

    assert await in_thread(readable, author) == {"public", "unlisted", "private", "direct"}
    assert await in_thread(readable, follower) == {"public", "unlisted", "private"}
    assert await in_thread(readable, member) == {"public", "unlisted"}
    assert await in_thread(readable, anon) == {"public", "unlisted"}
    home = await in_thread(follower.timeline_home)
    assert {s.id for s in home} == {posts["public"].id, posts["unlisted"].id, posts["private"].id}


async def test_media_poll_follow_timelines_paging_search(instance):
    await instance.create_member("alice")
    await instance.create_member("bob")
    alice = await mastodon_for(instance, "alice")
    bob = await mastodon_for(instance, "bob")
    alice_id = (await in_thread(alice.account_verify_credentials)).id

    media = await in_thread(
        alice.media_post, _png(), mime_type="image/png", description="a blue box"
    )
    assert media.type == "image" and media.description == "a blue box"
    media = await in_thread(
        alice.media_update, media.id, description="a blue rectangle", focus=(0.5, -0.5)
    )
    assert media.description == "a blue rectangle" and media.meta.focus.x == 0.5
    with_media = await in_thread(alice.status_post, "a picture #pics", media_ids=[media.id])
    assert with_media.media_attachments[0].description == "a blue rectangle"

    poll = await in_thread(alice.make_poll, ["yes", "no"], expires_in=600)
    question = await in_thread(alice.status_post, "vote?", poll=poll)
    voted = await in_thread(bob.poll_vote, question.poll.id, [0])
    assert voted.voted and voted.options[0].votes_count == 1
    with pytest.raises(MastodonAPIError):
        await in_thread(bob.poll_vote, question.poll.id, [1])
    secret = await in_thread(
        alice.status_post,
        "secret ballot",
        poll=await in_thread(alice.make_poll, ["a", "b"], expires_in=600, hide_totals=True),
    )
    after = await in_thread(bob.poll_vote, secret.poll.id, [1])
    assert after.voted and after.options[1].votes_count is None

    await in_thread(bob.account_follow, alice_id)
    for i in range(7):
        await in_thread(alice.status_post, f"numbered {i} #count")
    first = await in_thread(bob.timeline_home, limit=3)
    seen = [s.id for s in first]
    page = first
    while True:
        page = await in_thread(bob.fetch_next, page)
        if not page:
            break
        seen += [s.id for s in page]
    assert len(seen) == 10 and len(set(seen)) == 10
    assert seen == sorted(seen, key=int, reverse=True)

    tagged = await in_thread(bob.timeline_hashtag, "count")
    assert len(tagged) == 7
    public = await in_thread(bob.timeline_public, local=True, only_media=True)
    assert [s.id for s in public] == [with_media.id]

    found = await in_thread(bob.search, "alice", result_type="accounts")
    assert found.accounts[0].acct == "alice"
    found = await in_thread(bob.search, "numbered 3")
    assert len(found.statuses) == 1
    found = await in_thread(bob.search, "#cou")
    assert found.hashtags[0].name == "count"

    await in_thread(bob.account_unfollow, alice_id)
    rel = (await in_thread(bob.account_relationships, [alice_id]))[0]
    assert rel.following is False
    notes = await in_thread(alice.notifications, types=["follow"])
    assert [n.type for n in notes] == ["follow"]


async def test_instance_and_lists(instance):
    await instance.create_member("boss", admin=True)
    client = await mastodon_for(instance, "boss")
    info = await in_thread(client.instance)
    assert "Koers" in info.version and info.configuration.statuses.max_characters == 5000
    lst = await in_thread(client.list_create, "friends")
    assert lst.title == "friends"
    assert [x.title for x in await in_thread(client.lists)] == ["friends"]
    await in_thread(client.list_delete, lst.id)
