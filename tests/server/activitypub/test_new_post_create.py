"""The Create a new post sends is built in the post's write unit from the rows it has just written
(``services/written_post.py``): it must be the same object the database gives afterwards, for
every shape of post."""

from __future__ import annotations

import json
from typing import Any

from server.activitypub.core import convert
from server.activitypub.posts.objects import load_post
from server.services import posts
from server.services.posts import Draft, PollSpec
from server.visibility import Audience
from tests.conftest import UNIT_URL

ANA = f"{UNIT_URL}/users/ana"


async def _read_back(wired: Any, post_id: int) -> dict[str, Any]:
    ctx = wired.ctx
    async with ctx.db.read() as conn:
        parts = await load_post(conn, ctx.base, ctx.settings.domain, post_id)
    back = json.loads(json.dumps(convert.to_object(parts, ctx.base)))
    back.pop("@context")  # an object inside an activity goes without
    return back


async def _sent_creates(wired: Any) -> dict[str, dict[str, Any]]:
    await wired.cycle()
    return {
        s.activity["object"]["id"]: s.activity["object"]
        for s in wired.transport.sent
        if s.activity["type"] == "Create"
    }


async def test_every_shape_of_new_post_sends_the_object_read_back(
    wired, crew, remote_actor
) -> None:
    ana = crew.ana
    await wired.receive(remote_actor.activity("Follow", object=ANA), remote_actor)
    await wired.cycle()
    wired.transport.sent.clear()
    ctx = wired.ctx
    first = await posts.create_post(
        ctx, ana.actor_id, Draft(source="#Energy with @bo and @rosa@remote.example #grid")
    )
    made = [
        first,
        await posts.create_post(
            ctx,
            ana.actor_id,
            Draft(source="Which day?", poll=PollSpec(("Monday", "Friday"), 3600)),
        ),
        await posts.create_post(
            ctx, ana.actor_id, Draft(source="and a reply #grid", in_reply_to_id=first)
        ),
        await posts.create_post(
            ctx,
            ana.actor_id,
            Draft(
                source="We grew beans",
                kind="result",
                community_id=crew.community.id,
                contributor_ids=(crew.bo.actor_id, crew.cy.actor_id),
            ),
        ),
        await posts.create_post(
            ctx,
            ana.actor_id,
            Draft(
                source="garden only", audience=Audience.COMMUNITY, community_id=crew.community.id
            ),
        ),
    ]
    sent = await _sent_creates(wired)
    checked = 0
    for post_id in made:
        back = await _read_back(wired, post_id)
        if post_id == first:  # replied to since: it had none when it was sent
            assert sent[back["id"]]["replies"]["totalItems"] == 0
            back["replies"]["totalItems"] = 0
        if back["id"] in sent:
            assert sent[back["id"]] == back
            checked += 1
    assert checked >= 4  # the community-only post may have no remote recipient
    assert sent[f"{ANA}/posts/{first}"]["tag"]  # its mentions and tags were sent
