"""Full-text search of posts through HTTP, on both backends: ``/api/v2/search?type=statuses`` (words
with accents, paging by ``max_id`` and ``offset``, an edit and a delete followed, a followers-only
post never found by a stranger) and the ``/search`` page's "older" link."""

from __future__ import annotations

import html
import re

from server.services import follows, posts
from server.services.posts import Draft
from server.visibility import Audience
from tests.api.conftest import api_token
from tests.conftest import Instance


async def _statuses(instance: Instance, token: str, q: str, **params: str) -> list[str]:
    resp = await instance.client.get(
        "/api/v2/search",
        params={"q": q, "type": "statuses", **params},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = await resp.json()
    assert resp.status == 200, body
    return [s["id"] for s in body["statuses"]]


async def test_the_api_finds_statuses_by_their_words(instance: Instance) -> None:
    ana = await instance.create_member("ana")
    bo = await instance.create_member("bo")
    await instance.create_member("cy")
    ctx = instance.ctx
    await follows.follow(ctx, bo.actor_id, ana.actor_id)
    ids = [
        str(await posts.create_post(ctx, ana.actor_id, Draft(source=f"Ideeën voor de tuin {n}")))
        for n in range(5)
    ]
    private = str(
        await posts.create_post(
            ctx,
            ana.actor_id,
            Draft(source="ideeën alleen voor volgers", audience=Audience.FOLLOWERS),
        )
    )
    ana_token, bo_token, cy_token = [await api_token(instance, n) for n in ("ana", "bo", "cy")]
    newest = list(reversed(ids))
    assert await _statuses(instance, cy_token, "ideeen tuin") == newest
    assert await _statuses(instance, cy_token, "IDEEËN") == newest  # never the followers' post
    assert await _statuses(instance, bo_token, "ideeën") == [private, *newest]
    assert await _statuses(instance, cy_token, "idee", limit="2") == newest[:2]
    assert await _statuses(instance, cy_token, "idee", limit="2", max_id=newest[1]) == newest[2:4]
    assert await _statuses(instance, cy_token, "idee", limit="2", offset="2") == newest[2:4]
    assert await _statuses(instance, cy_token, "volgers") == []

    await posts.edit_post(ctx, ana.actor_id, int(ids[0]), source="Plannen voor de moestuin")
    assert await _statuses(instance, ana_token, "moestuin") == [ids[0]]
    assert ids[0] not in await _statuses(instance, ana_token, "ideeën")
    await posts.delete_post(ctx, ana.actor_id, int(ids[0]))
    assert await _statuses(instance, ana_token, "moestuin") == []
    anonymous = await instance.client.get("/api/v2/search", params={"q": "tuin"})
    assert (await anonymous.json())["statuses"] == []  # as Mastodon: full text needs a login


def _numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"fietsenstalling (\d+)<", page)]


async def test_the_search_page_pages_older_posts(instance: Instance) -> None:
    ana = await instance.create_member("ana")
    for n in range(25):
        await posts.create_post(instance.ctx, ana.actor_id, Draft(source=f"fietsenstalling {n}"))
    first = await (await instance.client.get("/search", params={"q": "fietsen"})).text()
    assert _numbers(first) == list(range(24, 4, -1))  # 20 a page, newest first
    older = html.unescape(first.split('" rel="next"', 1)[0].rsplit('href="', 1)[1])
    assert older.startswith("/search?q=fietsen&max_id=")
    second = await (await instance.client.get(older)).text()
    assert _numbers(second) == [4, 3, 2, 1, 0] and 'rel="next"' not in second
    past_the_end = await (
        await instance.client.get("/search", params={"q": "fietsen", "max_id": "1"})
    ).text()
    assert "No older posts or results" in past_the_end
