"""More of what apps do, through Mastodon.py: avatars, locked accounts, blocks, bookmarks, pins,
markers, direct conversations, notification housekeeping, lists with members."""

from __future__ import annotations

import io

from mastodon.errors import MastodonNotFoundError
from PIL import Image

from tests.api.conftest import in_thread, mastodon_for


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (500, 500), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


async def test_profile_locked_account_blocks_and_lists(instance):
    await instance.create_member("alice")
    await instance.create_member("bob")
    alice = await mastodon_for(instance, "alice")
    bob = await mastodon_for(instance, "bob")
    me = await in_thread(
        alice.account_update_credentials,
        display_name="Alice",
        avatar=_jpeg(),
        avatar_mime_type="image/jpeg",
        locked=True,
    )
    assert me.locked and me.display_name == "Alice" and "/media/" in me.avatar
    avatar = await instance.client.get(me.avatar.replace(instance.url, ""))
    assert avatar.status == 200

    rel = await in_thread(bob.account_follow, me.id)
    assert rel.requested and not rel.following
    requests = await in_thread(alice.follow_requests)
    bob_id = requests[0].id
    assert [a.acct for a in requests] == ["bob"]
    await in_thread(alice.follow_request_authorize, bob_id)
    rel = (await in_thread(bob.account_relationships, me.id))[0]
    assert rel.following
    followers = await in_thread(alice.account_followers, me.id)
    assert [a.acct for a in followers] == ["bob"]

    lst = await in_thread(bob.list_create, "people")
    await in_thread(bob.list_accounts_add, lst.id, [me.id])
    assert [a.acct for a in await in_thread(bob.list_accounts, lst.id)] == ["alice"]
    post = await in_thread(alice.status_post, "to my followers", visibility="private")
    assert [s.id for s in await in_thread(bob.timeline_list, lst.id)] == [post.id]

    await in_thread(alice.account_block, bob_id)
    assert [a.acct for a in await in_thread(alice.blocks)] == ["bob"]
    rel = (await in_thread(bob.account_relationships, me.id))[0]
    assert rel.following is False and rel.blocked_by is True
    try:
        await in_thread(bob.status, post.id)
        raise AssertionError("a blocked member read the post")
    except MastodonNotFoundError:
        pass
    await in_thread(alice.account_unblock, bob_id)
    assert await in_thread(alice.blocks) == []


async def test_bookmarks_pins_markers_conversations_notifications(instance):
    await instance.create_member("alice")
    await instance.create_member("bob")
    alice = await mastodon_for(instance, "alice")
    bob = await mastodon_for(instance, "bob")
    post = await in_thread(alice.status_post, "pin me")
    pinned = await in_thread(alice.status_pin, post.id)
    assert pinned.pinned
    me = await in_thread(alice.account_verify_credentials)
    assert [s.id for s in await in_thread(bob.account_statuses, me.id, pinned=True)] == [post.id]

    await in_thread(bob.status_bookmark, post.id)
    await in_thread(bob.status_favourite, post.id)
    assert [s.id for s in await in_thread(bob.bookmarks)] == [post.id]
    assert [s.id for s in await in_thread(bob.favourites)] == [post.id]
    assert [a.acct for a in await in_thread(alice.status_favourited_by, post.id)] == ["bob"]

    dm = await in_thread(bob.status_post, "@alice psst", visibility="direct")
    convs = await in_thread(alice.conversations)
    assert convs[0].last_status.id == dm.id and convs[0].accounts[0].acct == "bob"

    await in_thread(alice.markers_set, ["home"], [post.id])
    markers = await in_thread(alice.markers_get, ["home"])
    assert markers.home.last_read_id == post.id

    notes = await in_thread(alice.notifications)
    assert {n.type for n in notes} == {"favourite", "mention"}
    await in_thread(alice.notifications_dismiss, notes[0].id)
    assert len(await in_thread(alice.notifications)) == len(notes) - 1
    await in_thread(alice.notifications_clear)
    assert await in_thread(alice.notifications) == []


async def test_grouped_notifications_and_tags_for_web_apps(instance):
    from tests.api.conftest import api_token

    await instance.create_member("alice")
    await instance.create_member("bob")
    ta, tb = await api_token(instance, "alice"), await api_token(instance, "bob")
    c = instance.client
    post = await (
        await c.post(
            "/api/v1/statuses",
            json={"status": "hi #garden"},
            headers={"Authorization": f"Bearer {ta}"},
        )
    ).json()
    await c.post(
        f"/api/v1/statuses/{post['id']}/favourite", headers={"Authorization": f"Bearer {tb}"}
    )
    body = await (
        await c.get("/api/v2/notifications", headers={"Authorization": f"Bearer {ta}"})
    ).json()
    group = body["notification_groups"][0]
    assert group["type"] == "favourite" and group["status_id"] == post["id"]
    assert [a["acct"] for a in body["accounts"]] == ["bob"] and body["statuses"][0]["id"] == post[
        "id"
    ]
    tag = await (await c.get("/api/v1/tags/Garden")).json()
    assert tag["name"] == "garden" and tag["following"] is False
