"""Filters (v2 with keywords and statuses, v1 as one keyword each), driven by Mastodon.py: a ``warn``
filter marks matching statuses in its contexts, a ``hide`` filter leaves them out, on both backends."""

from __future__ import annotations

import json

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from server.services import follows, posts
from server.visibility import Audience
from tests.api.conftest import api_token, in_thread, mastodon_for
from tests.conftest import Instance


@pytest.fixture
async def people(instance: Instance) -> dict:
    ann = await instance.create_member("ann")
    bob = await instance.create_member("bob")
    await follows.follow(instance.ctx, bob.actor_id, ann.actor_id)
    return {"ann": ann.actor_id, "bob": bob.actor_id}


async def _post(instance: Instance, actor_id: int, text: str, **kw) -> int:  # type: ignore[no-untyped-def]
    return await posts.create_post(
        instance.ctx, actor_id, posts.Draft(source=text, audience=Audience.PUBLIC, **kw)
    )


async def test_warn_marks_and_hide_removes_in_the_filters_contexts(
    instance: Instance, people: dict
) -> None:
    spoiler = await _post(instance, people["ann"], "The finale: the butler did it")
    spoilage = await _post(instance, people["ann"], "Food spoilage in the cold store")
    other = await _post(instance, people["ann"], "Seeds arrived")
    bob = await mastodon_for(instance, "bob")
    made = await in_thread(
        bob.create_filter_v2,
        title="No spoilers",
        context=["home", "public"],
        filter_action="warn",
        keywords_attributes=[
            {"keyword": "finale", "whole_word": True},
            {"keyword": "spoil", "whole_word": True},
        ],
    )
    assert made["title"] == "No spoilers" and {k["keyword"] for k in made["keywords"]} == {
        "finale",
        "spoil",
    }

    home = {int(s["id"]): s for s in await in_thread(bob.timeline_home)}
    assert [r["keyword_matches"] for r in home[spoiler]["filtered"]] == [["finale"]]
    assert home[spoiler]["filtered"][0]["filter"]["id"] == str(made["id"])
    assert home[spoilage]["filtered"] == []  # whole word: "spoil" does not match "spoilage"
    assert home[other]["filtered"] == []
    # Not in the thread context: the status itself, read alone, carries no filter result.
    assert not (await in_thread(bob.status, spoiler)).get("filtered")

    await in_thread(bob.update_filter_v2, made["id"], filter_action="hide")
    assert spoiler not in {int(s["id"]) for s in await in_thread(bob.timeline_home)}
    assert spoiler not in {int(s["id"]) for s in await in_thread(bob.timeline_public)}
    # Anonymous readers and ann are not affected by bob's filter.
    anonymous = await (await instance.client.get("/api/v1/timelines/public")).json()
    assert spoiler in {int(s["id"]) for s in anonymous}
    ann = await mastodon_for(instance, "ann")
    assert spoiler in {int(s["id"]) for s in await in_thread(ann.timeline_home)}


async def test_filtered_status_keywords_and_expiry(instance: Instance, people: dict) -> None:
    target = await _post(instance, people["ann"], "A post bob does not want to see again")
    bob = await mastodon_for(instance, "bob")
    made = await in_thread(
        bob.create_filter_v2, title="This one", context=["home"], filter_action="hide"
    )
    await in_thread(bob.add_filter_status_v2, made["id"], target)
    assert target not in {int(s["id"]) for s in await in_thread(bob.timeline_home)}
    statuses = await in_thread(bob.filter_statuses_v2, made["id"])
    assert [int(s["status_id"]) for s in statuses] == [target]
    await in_thread(bob.delete_filter_status_v2, statuses[0]["id"])
    assert target in {int(s["id"]) for s in await in_thread(bob.timeline_home)}

    keyword = await in_thread(bob.add_filter_keyword_v2, made["id"], "see again", whole_word=False)
    assert target not in {int(s["id"]) for s in await in_thread(bob.timeline_home)}
    await in_thread(bob.delete_filter_keyword_v2, keyword["id"])
    assert [k for k in (await in_thread(bob.filter_v2, made["id"]))["keywords"]] == []

    # An expired filter no longer applies (expires_in counts from now).
    expiring = await in_thread(
        bob.create_filter_v2,
        title="Soon over",
        context=["home"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "bob"}],
        expires_in=3600,
    )
    assert expiring["expires_at"] is not None
    assert target not in {int(s["id"]) for s in await in_thread(bob.timeline_home)}
    from server.storage import schema as t

    async with instance.db.write() as conn:
        await conn.execute(
            t.filters.update()
            .where(t.filters.c.id == int(expiring["id"]))
            .values(expires_at=t.filters.c.created_at)
        )
    assert target in {int(s["id"]) for s in await in_thread(bob.timeline_home)}

    await in_thread(bob.delete_filter_v2, made["id"])
    assert [f["title"] for f in await in_thread(bob.filters_v2)] == ["Soon over"]


async def test_v1_filters_are_keywords(instance: Instance, people: dict) -> None:
    await _post(instance, people["ann"], "Meeting about budget cuts")
    bob = await mastodon_for(instance, "bob")
    v1 = await in_thread(bob.filter_create, "budget", ["home"], irreversible=True, whole_word=True)
    assert v1["phrase"] == "budget" and v1["irreversible"] is True
    assert not [s for s in await in_thread(bob.timeline_home) if "budget" in s["content"]]
    assert [f["phrase"] for f in await in_thread(bob.filters)] == ["budget"]
    v2 = await in_thread(bob.filters_v2)
    assert v2[0]["filter_action"] == "hide" and v2[0]["keywords"][0]["id"] == str(v1["id"])
    await in_thread(bob.filter_delete, v1["id"])
    assert await in_thread(bob.filters) == [] and await in_thread(bob.filters_v2) == []


async def test_bad_input_is_refused_and_writes_nothing(instance: Instance, people: dict) -> None:
    bob = await mastodon_for(instance, "bob")
    with pytest.raises(MastodonAPIError, match="context"):
        await in_thread(
            bob.create_filter_v2, title="x", context=["everywhere"], filter_action="warn"
        )
    with pytest.raises(MastodonAPIError, match="filter_action"):
        await in_thread(bob.create_filter_v2, title="x", context=["home"], filter_action="explode")
    with pytest.raises(MastodonAPIError, match="keyword"):
        await in_thread(
            bob.create_filter_v2,
            title="x",
            context=["home"],
            filter_action="warn",
            keywords_attributes=[{"keyword": " "}],
        )
    assert await in_thread(bob.filters_v2) == []
    # Someone else's filter is not found, nor can its keywords be touched.
    ann = await mastodon_for(instance, "ann")
    hers = await in_thread(
        ann.create_filter_v2,
        title="Hers",
        context=["home"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "x"}],
    )
    with pytest.raises(MastodonNotFoundError):
        await in_thread(bob.filter_v2, hers["id"])
    with pytest.raises(MastodonNotFoundError):
        await in_thread(bob.delete_filter_keyword_v2, hers["keywords"][0]["id"])
    with pytest.raises(MastodonNotFoundError):
        await in_thread(bob.update_filter_v2, hers["id"], title="Mine now")
    assert (await in_thread(ann.filter_v2, hers["id"]))["title"] == "Hers"
    # Without the filters scope: refused.
    token = await api_token(instance, "bob", scopes="read:statuses")
    resp = await instance.client.get(
        "/api/v2/filters", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 403


async def test_account_and_notification_contexts(instance: Instance, people: dict) -> None:
    bob = await mastodon_for(instance, "bob")
    await in_thread(
        bob.create_filter_v2,
        title="Quiet",
        context=["account", "notifications"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "lottery"}],
    )
    noisy = await _post(instance, people["ann"], "@bob you won the lottery")
    calm = await _post(instance, people["ann"], "@bob see you tomorrow")
    on_profile = {int(s["id"]) for s in await in_thread(bob.account_statuses, people["ann"])}
    assert calm in on_profile and noisy not in on_profile
    mentioned = {int(n["status"]["id"]) for n in await in_thread(bob.notifications) if n["status"]}
    assert calm in mentioned and noisy not in mentioned
    # Home is not among the filter's contexts: the post is there.
    assert noisy in {int(s["id"]) for s in await in_thread(bob.timeline_home)}


async def test_streams_apply_filters_of_their_context(instance: Instance, people: dict) -> None:
    """A hide filter on home keeps a post out of the user stream but not out of the public one."""
    from tests.api.test_streaming import collect_until, open_sse, sse_events, update_of

    bob = await mastodon_for(instance, "bob")
    await in_thread(
        bob.create_filter_v2,
        title="No spoilers",
        context=["home"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "finale"}],
    )
    token = await api_token(instance, "bob")
    user = sse_events(await open_sse(instance, "user", token))
    public = sse_events(await open_sse(instance, "public", token))
    hidden = await _post(instance, people["ann"], "The finale was great")
    shown = await _post(instance, people["ann"], "Seeds arrived")
    seen_public = await collect_until(public, update_of(shown))
    assert {json.loads(d)["id"] for e, d in seen_public if e == "update"} == {
        str(hidden),
        str(shown),
    }
    seen_user = await collect_until(user, update_of(shown))
    assert [json.loads(d)["id"] for e, d in seen_user if e == "update"] == [str(shown)]


async def test_a_status_one_may_not_see_cannot_be_filtered(
    instance: Instance, people: dict
) -> None:
    # Filtering a status by id must not confirm that a hidden status exists (nor store it).
    secret = await posts.create_post(
        instance.ctx, people["ann"], posts.Draft(source="Only for me", audience=Audience.DIRECT)
    )
    bob = await mastodon_for(instance, "bob")
    made = await in_thread(
        bob.create_filter_v2, title="Hidden", context=["home"], filter_action="hide"
    )
    for status_id in (secret, 99999999):
        with pytest.raises(MastodonNotFoundError):
            await in_thread(bob.add_filter_status_v2, made["id"], status_id)
    assert await in_thread(bob.filter_statuses_v2, made["id"]) == []
