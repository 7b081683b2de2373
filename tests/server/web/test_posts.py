"""Writing, reading, editing and deleting posts on the web pages; threads, tags, notifications."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from server.services import posts
from server.storage import schema as t
from server.visibility import Audience
from tests.conftest import csrf_from, post_form


async def _compose(client, data: dict):  # type: ignore[no-untyped-def]
    return await post_form(
        client, "/compose", {"format": "markdown", "audience": "public", **data}, page="/compose"
    )


async def _live_posts(instance) -> list:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.posts).where(t.posts.c.deleted_at.is_(None)).order_by(t.posts.c.id)
            )
        )


async def test_compose_form_offers_audiences_communities_and_default(instance):
    ana = await instance.create_member("ana")
    from server.services import accounts

    await accounts.update_profile(instance.db, ana.user_id, default_audience="members")
    client = await instance.login("ana")
    page = await (await client.get("/compose")).text()
    for label in (
        "Public",
        "Unlisted",
        "Followers only",
        "Members of one community",
        "Members of this organisation",
        "partner organisations",
        "Only the people I mention",
    ):
        assert label in page
    assert (
        'name="audience" value="members" aria-describedby="c-audience-members-h" checked>' in page
    )
    assert 'name="token"' in page


async def test_double_submit_makes_one_post(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    page = await (await client.get("/compose")).text()
    import re

    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    form = {
        "_csrf": csrf_from(page),
        "status": "only once",
        "audience": "public",
        "format": "markdown",
        "token": token,
    }
    first = await client.post("/compose", data=form, allow_redirects=False)
    second = await client.post("/compose", data=form, allow_redirects=False)
    assert first.status == second.status == 302
    assert first.headers["Location"] == second.headers["Location"]
    # Even when both arrive at the same moment only one post remains.
    form2 = {**form, "token": token + "x", "status": "concurrent"}
    results = await asyncio.gather(
        *(client.post("/compose", data=form2, allow_redirects=False) for _ in range(3))
    )
    assert {r.status for r in results} == {302}
    assert len({r.headers["Location"] for r in results}) == 1
    texts = [r.source for r in await _live_posts(instance)]
    assert texts.count("only once") == 1 and texts.count("concurrent") == 1


async def test_post_page_thread_and_reply(instance):
    await instance.create_member("ana")
    await instance.create_member("ben")
    ana = await instance.login("ana")
    resp = await _compose(ana, {"status": "Who joins the #planting day?"})
    post_url = resp.headers["Location"]
    ben = await instance.login("ben")
    page = await (await ben.get(post_url)).text()
    reply = await post_form(
        ben,
        "/compose",
        {
            "status": "@ana me!",
            "in_reply_to": post_url.rsplit("/", 1)[1],
            "audience": "public",
            "token": "r1",
        },
        page=post_url,
    )
    assert reply.status == 302
    thread = await (await instance.client.get(post_url)).text()
    assert "Who joins the" in thread and "me!" in thread
    assert "Reply" in page
    tag_page = await (await instance.client.get("/tags/planting")).text()
    assert "Who joins the" in tag_page
    notes = await (await ana.get("/notifications")).text()
    assert "mentioned you" in notes and "me!" in notes


async def test_invisible_post_is_404_and_wrong_author_path_is_404(instance):
    await instance.create_member("ana")
    await instance.create_member("ben")
    ana = await instance.login("ana")
    resp = await _compose(ana, {"status": "for followers", "audience": "followers"})
    url = resp.headers["Location"]
    assert (await instance.client.get(url)).status == 404
    assert (await (await instance.login("ben")).get(url)).status == 404
    assert (await ana.get(url)).status == 200
    assert (await ana.get(url.replace("/@ana/", "/@ben/"))).status == 404
    assert (await instance.client.get("/@ana/999999")).status == 404
    # A stranger cannot reply to it either, and nothing is written.
    ben = await instance.login("ben")
    r = await post_form(
        ben,
        "/compose",
        {"status": "sneaky", "in_reply_to": url.rsplit("/", 1)[1], "token": "x"},
        page="/compose",
    )
    assert r.status == 404
    assert [p.source for p in await _live_posts(instance)] == ["for followers"]


async def test_edit_keeps_history(instance):
    await instance.create_member("ana")
    ana = await instance.login("ana")
    url = (await _compose(ana, {"status": "first version"})).headers["Location"]
    resp = await post_form(
        ana, url + "/edit", {"status": "second version", "spoiler_text": ""}, page=url + "/edit"
    )
    assert resp.status == 302
    page = await (await instance.client.get(url)).text()
    assert "second version" in page and "first version" not in page and "(edited)" in page
    history = await (await instance.client.get(url + "/history")).text()
    assert history.index("second version") < history.index("first version")
    await instance.create_member("ben")
    ben = await instance.login("ben")
    assert (await post_form(ben, url + "/edit", {"status": "hijack"}, page=url)).status == 404
    assert (await ben.get(url + "/edit")).status == 404


async def test_delete_leaves_no_content_and_answers_410(instance):
    await instance.create_member("ana")
    ana = await instance.login("ana")
    url = (await _compose(ana, {"status": "secret plans #x", "spoiler_text": "cw"})).headers[
        "Location"
    ]
    post_id = int(url.rsplit("/", 1)[1])
    await post_form(ana, url + "/edit", {"status": "more secret plans"}, page=url)
    resp = await post_form(ana, url + "/delete", {}, page=url)
    assert resp.status == 302
    assert (await instance.client.get(url)).status == 410
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()
        edits = (await conn.execute(sa.select(sa.func.count()).select_from(t.post_edits))).scalar()
        tags = (await conn.execute(sa.select(sa.func.count()).select_from(t.post_tags))).scalar()
    assert row.deleted_at is not None
    assert (row.source, row.content_html, row.spoiler_text) == ("", "", "")
    assert edits == 0 and tags == 0


async def test_boost_and_like_buttons(instance):
    ana_acc = await instance.create_member("ana")
    await instance.create_member("ben")
    post_id = await posts.create_post(
        instance.ctx, ana_acc.actor_id, posts.Draft("boost me", audience=Audience.PUBLIC)
    )
    url = f"/@ana/{post_id}"
    ben = await instance.login("ben")
    assert (await post_form(ben, url + "/boost", {}, page=url)).status == 302
    assert (await post_form(ben, url + "/like", {}, page=url)).status == 302
    page = await (await ben.get(url)).text()
    assert "Undo boost" in page and "Unlike" in page and "1 boost ·" in page and "1 like" in page
    await post_form(ben, url + "/unlike", {}, page=url)
    assert "0 likes" in await (await ben.get(url)).text()
    followers_only = await posts.create_post(
        instance.ctx, ana_acc.actor_id, posts.Draft("hidden", audience=Audience.FOLLOWERS)
    )
    assert (await post_form(ben, f"/@ana/{followers_only}/like", {}, page=url)).status == 404


async def test_notifications_recheck_visibility(instance):
    ana_acc = await instance.create_member("ana")
    ben_acc = await instance.create_member("ben")
    post_id = await posts.create_post(
        instance.ctx, ben_acc.actor_id, posts.Draft("hi @ana", audience=Audience.PUBLIC)
    )
    ana = await instance.login("ana")
    assert "hi" in await (await ana.get("/notifications")).text()
    from server.services import follows

    await follows.block(
        instance.ctx, ben_acc.actor_id, ana_acc.actor_id
    )  # ben blocks ana: she may not see it now
    page = await (await ana.get("/notifications")).text()
    assert f"/@ben/{post_id}" not in page
    assert (await post_form(ana, "/notifications/read", {}, page="/notifications")).status == 302


async def test_compose_to_a_joined_community_and_as_result(instance):
    from tests.server.web.test_profiles import make_community_with_role

    ana = await instance.create_member("ana")
    await instance.create_member("ben")
    await make_community_with_role(instance, ana.actor_id)
    async with instance.db.write() as conn:
        group_id, community_id = (
            await conn.execute(sa.select(t.communities.c.actor_id, t.communities.c.id))
        ).first()
        from server import clock

        await conn.execute(
            t.follows.insert().values(
                follower_id=ana.actor_id,
                target_id=group_id,
                state="accepted",
                created_at=clock.now(),
            )
        )
    client = await instance.login("ana")
    page = await (await client.get("/compose")).text()
    assert f'<option value="{community_id}">City Gardeners</option>' in page
    resp = await _compose(
        client,
        {
            "status": "we planted 40 trees",
            "audience": "community",
            "community_id": str(community_id),
            "kind": "result",
            "token": "c1",
        },
    )
    assert resp.status == 302, await resp.text()
    rows = await _live_posts(instance)
    assert (rows[-1].audience, rows[-1].community_id, rows[-1].kind) == (
        "community",
        community_id,
        "result",
    )
    assert (await instance.client.get(resp.headers["Location"])).status == 404
    assert (await (await instance.login("ben")).get(resp.headers["Location"])).status == 404
    assert "we planted 40 trees" in await (await client.get(resp.headers["Location"])).text()
    # Community audience without a community is refused with a message at the field.
    bad = await _compose(client, {"status": "where?", "audience": "community", "token": "c2"})
    assert bad.status == 422 and "choose the community" in await bad.text()
