"""Scheduled posts from Mastodon apps (Mastodon.py): scheduled, listed, moved, cancelled, and
published by the worker when due — once, in the audience asked for."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from mastodon import MastodonAPIError, MastodonNotFoundError

from server import clock
from server.services import scheduled
from server.storage import schema as t
from tests.api.conftest import in_thread, mastodon_for
from tests.conftest import Instance


async def test_schedule_list_move_cancel_and_publish(instance: Instance) -> None:
    await instance.create_member("ann")
    ann = await mastodon_for(instance, "ann")
    when = clock.now() + timedelta(hours=2)
    made = await in_thread(
        ann.status_post, "Workshop starts in an hour", visibility="private", scheduled_at=when
    )
    assert (
        made["params"]["text"] == "Workshop starts in an hour"
        and made["params"]["visibility"] == "private"
    )
    assert abs((made["scheduled_at"] - when).total_seconds()) < 1
    assert [s["id"] for s in await in_thread(ann.scheduled_statuses)] == [made["id"]]
    assert (
        await in_thread(ann.account_statuses, (await in_thread(ann.me))["id"]) == []
    )  # not published yet

    later = when + timedelta(days=1)
    moved = await in_thread(ann.scheduled_status_update, made["id"], later)
    assert abs((moved["scheduled_at"] - later).total_seconds()) < 1
    other = await in_thread(ann.status_post, "Never mind", scheduled_at=when)
    await in_thread(ann.scheduled_status_delete, other["id"])
    with pytest.raises(MastodonNotFoundError):
        await in_thread(ann.scheduled_status, other["id"])

    assert await scheduled.publish_due(instance.ctx, now=when) == 0  # not due yet
    assert await scheduled.publish_due(instance.ctx, now=later + timedelta(seconds=1)) == 1
    assert (
        await scheduled.publish_due(instance.ctx, now=later + timedelta(seconds=2)) == 0
    )  # once only
    published = await in_thread(ann.account_statuses, (await in_thread(ann.me))["id"])
    assert [s["visibility"] for s in published] == ["private"]
    assert "Workshop starts" in published[0]["content"]
    assert await in_thread(ann.scheduled_statuses) == []


async def test_bad_schedules_are_refused_and_nothing_is_kept(instance: Instance) -> None:
    await instance.create_member("ann")
    await instance.create_member("bob")
    ann = await mastodon_for(instance, "ann")
    with pytest.raises(MastodonAPIError, match="5 minutes"):
        await in_thread(
            ann.status_post, "Too soon", scheduled_at=clock.now() + timedelta(minutes=1)
        )
    with pytest.raises(MastodonAPIError, match="needs text"):
        await in_thread(ann.status_post, "", scheduled_at=clock.now() + timedelta(hours=1))
    token_headers = {"Authorization": f"Bearer {ann.access_token}"}
    resp = await instance.client.post(
        "/api/v1/statuses",
        data={"status": "x", "scheduled_at": "next tuesday"},
        headers=token_headers,
    )
    assert resp.status == 422 and "ISO 8601" in (await resp.json())["error"]
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.scheduled_posts))
        ).scalar_one() == 0
    # Someone else's scheduled post is not found.
    mine = await in_thread(ann.status_post, "Mine", scheduled_at=clock.now() + timedelta(hours=1))
    bob = await mastodon_for(instance, "bob")
    with pytest.raises(MastodonNotFoundError):
        await in_thread(bob.scheduled_status_delete, mine["id"])
    assert [s["id"] for s in await in_thread(ann.scheduled_statuses)] == [mine["id"]]


async def test_a_post_that_became_impossible_is_dropped(instance: Instance) -> None:
    await instance.create_member("ann")
    ann = await mastodon_for(instance, "ann")
    parent = await in_thread(ann.status_post, "A thread")
    reply = await in_thread(
        ann.status_post,
        "A late reply",
        in_reply_to_id=parent["id"],
        scheduled_at=clock.now() + timedelta(hours=1),
    )
    await in_thread(ann.status_delete, parent["id"])
    assert await scheduled.publish_due(instance.ctx, now=clock.now() + timedelta(hours=2)) == 0
    with pytest.raises(MastodonNotFoundError):
        await in_thread(ann.scheduled_status, reply["id"])


async def test_two_publishers_at_once_publish_a_due_post_once(instance: Instance) -> None:
    # Two worker processes (here: two publishers on separate connections) find the same due post;
    # only one publication may commit, the other is rolled back with its post.
    await instance.create_member("ann")
    ann = await mastodon_for(instance, "ann")
    when = clock.now() + timedelta(hours=1)
    await in_thread(ann.status_post, "Only once, please", scheduled_at=when)
    first, second = await asyncio.gather(
        scheduled.publish_due(instance.ctx, now=when), scheduled.publish_due(instance.ctx, now=when)
    )
    assert first + second == 1
    published = await in_thread(ann.account_statuses, (await in_thread(ann.me))["id"])
    assert [s["content"].count("Only once") for s in published] == [1]


async def test_a_post_cancelled_while_being_published_is_not_published(instance: Instance) -> None:
    await instance.create_member("ann")
    ann = await mastodon_for(instance, "ann")
    when = clock.now() + timedelta(hours=1)
    made = await in_thread(ann.status_post, "Changed my mind", scheduled_at=when)
    real_create = scheduled.posts.create_post

    async def cancelled_meanwhile(ctx, actor_id, draft):  # type: ignore[no-untyped-def]
        await scheduled.cancel(
            ctx, actor_id, int(made["id"])
        )  # the member cancels as the publisher starts
        return await real_create(ctx, actor_id, draft)

    scheduled.posts.create_post = cancelled_meanwhile  # type: ignore[assignment]
    try:
        assert await scheduled.publish_due(instance.ctx, now=when) == 0
    finally:
        scheduled.posts.create_post = real_create  # type: ignore[assignment]
    assert await in_thread(ann.account_statuses, (await in_thread(ann.me))["id"]) == []


async def test_media_of_a_scheduled_post_are_checked_when_scheduled(instance: Instance) -> None:
    from tests.api.test_mastodon_py import _png

    await instance.create_member("ann")
    await instance.create_member("bob")
    ann, bob = await mastodon_for(instance, "ann"), await mastodon_for(instance, "bob")
    bobs = await in_thread(
        bob.media_post, _png(), mime_type="image/png", description="bob's private sketch"
    )
    when = clock.now() + timedelta(hours=1)
    # Someone else's upload (or no upload at all) is refused now with a 422, and nothing is kept.
    for media_id in (bobs["id"], "999999"):
        with pytest.raises(MastodonAPIError, match="media") as err:
            await in_thread(ann.status_post, "Look", media_ids=[media_id], scheduled_at=when)
        assert "422" in str(err.value) or "Unprocessable" in str(err.value)
    assert await in_thread(ann.scheduled_statuses) == []
    # An upload that disappears later does not break the list of scheduled posts.
    mine = await in_thread(ann.media_post, _png(), mime_type="image/png", description="a plan")
    made = await in_thread(ann.status_post, "The plan", media_ids=[mine["id"]], scheduled_at=when)
    assert [m["description"] for m in made["media_attachments"]] == ["a plan"]
    async with instance.db.write() as conn:
        await conn.execute(t.media.delete().where(t.media.c.id == int(mine["id"])))
    listed = await in_thread(ann.scheduled_statuses)
    assert [s["id"] for s in listed] == [made["id"]] and listed[0]["media_attachments"] == []


async def test_a_retried_schedule_with_the_same_idempotency_key_is_kept_once(
    instance: Instance,
) -> None:
    await instance.create_member("ann")
    ann = await mastodon_for(instance, "ann")
    when = clock.now() + timedelta(hours=1)
    first = await in_thread(
        ann.status_post, "Sent on a shaky train", scheduled_at=when, idempotency_key="trip-1"
    )
    again = await in_thread(
        ann.status_post, "Sent on a shaky train", scheduled_at=when, idempotency_key="trip-1"
    )
    assert again["id"] == first["id"] and first["params"]["idempotency"] == "trip-1"
    other = await in_thread(
        ann.status_post, "Another one", scheduled_at=when, idempotency_key="trip-2"
    )
    assert [s["id"] for s in await in_thread(ann.scheduled_statuses)] == [other["id"], first["id"]]


async def test_one_unpublishable_row_does_not_hold_up_the_others(instance: Instance) -> None:
    # A row the publisher cannot even read as a draft (here: a visibility this server no longer has)
    # is logged and left alone; the posts due after it are still published.
    ann = await instance.create_member("ann")
    mastodon = await mastodon_for(instance, "ann")
    when = clock.now() + timedelta(hours=1)
    async with instance.db.write() as conn:
        await conn.execute(
            t.scheduled_posts.insert().values(
                actor_id=ann.actor_id,
                scheduled_at=when - timedelta(minutes=1),
                params={"text": "odd", "visibility": "sideways"},
                created_at=clock.now(),
            )
        )
    await in_thread(mastodon.status_post, "Still on time", scheduled_at=when)
    assert await scheduled.publish_due(instance.ctx, now=when) == 1
    assert [
        "Still on time" in s["content"]
        for s in await in_thread(mastodon.account_statuses, (await in_thread(mastodon.me))["id"])
    ] == [True]
