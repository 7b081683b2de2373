"""A generated community with known answers for the insights tests and benchmark.

About 300 members and a few thousand interactions, written with bulk inserts straight into the
tables (fast on both backends). Planted:

- catalysts ``m010``-``m012`` (informal: no role, not managers), ``m013`` (holds a role) and the
  manager: each has 4 posts, every post gets 10 replies, 10 likes and 3 boosts from background
  members, so they draw responses from dozens of distinct people;
- broadcasters ``m020``-``m024``: 10 posts each and no responses — except ``m020``, whose first post
  has 30 *direct* replies (private: must not count) and ``m021``, whose first post had 20 replies
  long before the window;
- responders ``m030``-``m034``: 6 replies each to two people, nothing else;
- engagers ``m040``-``m044``: 3 replies and 10 likes each, spread over 10 people;
- background ``m100``-``m249``: 2 posts each, each liking the posts of the next four and replying once;
  two of them (``m100``, ``m101``) are remote members of the community;
- observers ``m250``-``m299``: at most one like;
- five remote outsiders (not members) who each reply to a catalyst.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from server import clock
from server.context import Context
from server.services import communities
from server.storage import schema as t

HANDLE = "gen"
BACKGROUND = [f"m{i:03d}" for i in range(100, 250)]
CATALYSTS_INFORMAL = ["m010", "m011", "m012"]
CATALYST_WITH_ROLE = "m013"
BROADCASTERS = [f"m{i:03d}" for i in range(20, 25)]
RESPONDERS = [f"m{i:03d}" for i in range(30, 35)]
ENGAGERS = [f"m{i:03d}" for i in range(40, 45)]
OBSERVERS = [f"m{i:03d}" for i in range(250, 300)]
REMOTE_MEMBERS = ["m100", "m101"]
OUTSIDERS = [f"out{i}" for i in range(5)]


@dataclass
class World:
    """What was planted: the community, actor ids by username, and the number of interactions."""

    community_id: int
    ids: dict[str, int]
    manager: str
    interactions: int = 0
    names: dict[int, str] = field(default_factory=dict)


def _actor(base: str, username: str, now: datetime, domain: str | None = None) -> dict[str, Any]:
    host = f"https://{domain}" if domain else base
    return {
        "uri": f"{host}/users/{username}",
        "kind": "person",
        "username": username,
        "domain": domain,
        "display_name": username.upper(),
        "created_at": now,
        "updated_at": now,
    }


async def build(
    ctx: Context, manager_username: str, manager_id: int, *, now: datetime | None = None
) -> World:
    """Create the community (managed by an existing local account) and its generated activity."""
    now = now or clock.now()
    community = await communities.create_community(
        ctx,
        manager_id,
        handle=HANDLE,
        name="Generated Commons",
        purpose_text="Test insights at scale.",
    )
    base = ctx.base
    locals_ = (
        [f"m{i:03d}" for i in range(1, 100)]
        + [u for u in BACKGROUND if u not in REMOTE_MEMBERS]
        + OBSERVERS
    )
    rows = [_actor(base, u, now) for u in locals_]
    rows += [_actor(base, u, now, "remote.example") for u in REMOTE_MEMBERS + OUTSIDERS]
    posts: list[dict[str, Any]] = []
    replies: list[tuple[str, str, str, str, datetime]] = []  # author, parent uri, audience, uri, at
    likes: list[tuple[str, str, datetime]] = []
    boosts: list[tuple[str, str, datetime]] = []
    mentions: list[tuple[str, str]] = []
    counter = iter(range(10**6))

    def at(k: int) -> datetime:
        return now - timedelta(days=k % 50, hours=k % 7 + 1)

    def post(author: str, k: int) -> str:
        uri = f"{base}/gen/{next(counter)}"
        posts.append({"uri": uri, "author": author, "at": at(k)})
        return uri

    def reply(
        author: str, parent: str, k: int, audience: str = "community", when: datetime | None = None
    ) -> None:
        replies.append((author, parent, audience, f"{base}/gen/{next(counter)}", when or at(k)))

    g = len(BACKGROUND)
    bg_posts = {u: [post(u, i), post(u, i + 3)] for i, u in enumerate(BACKGROUND)}
    for i, u in enumerate(BACKGROUND):
        for step in range(1, 5):
            for p in bg_posts[BACKGROUND[(i + step) % g]]:
                likes.append((u, p, at(i + step)))
        reply(u, bg_posts[BACKGROUND[(i + 1) % g]][0], i)
        mentions.append((bg_posts[u][0], BACKGROUND[(i + 5) % g]))
    for k, c in enumerate([*CATALYSTS_INFORMAL, CATALYST_WITH_ROLE, manager_username]):
        for j in range(4):
            p = post(c, k * 4 + j)
            for r in range(10):
                reply(BACKGROUND[(k * 37 + j * 23 + r) % g], p, k + j + r)
                likes.append((BACKGROUND[(k * 37 + j * 23 + 10 + r) % g], p, at(k + j + r)))
            for r in range(3):
                boosts.append((BACKGROUND[(k * 37 + j * 23 + 20 + r) % g], p, at(k + j + r)))
            if j == 0 and k < len(OUTSIDERS):
                reply(OUTSIDERS[k], p, k)
    for k, b in enumerate(BROADCASTERS):
        firsts = [post(b, k * 10 + j) for j in range(10)]
        if b == "m020":
            for r in range(30):
                reply(OBSERVERS[r], firsts[0], r, audience="direct")
        if b == "m021":
            for r in range(20):
                reply(BACKGROUND[r], firsts[0], r, when=now - timedelta(weeks=30))
    for k, r_ in enumerate(RESPONDERS):
        for j in range(6):
            reply(r_, bg_posts[BACKGROUND[(k * 2 + j % 2) % g]][0], k + j)
    for k, e in enumerate(ENGAGERS):
        for j in range(10):
            target = BACKGROUND[(60 + k * 10 + j) % g]
            likes.append((e, bg_posts[target][1], at(k + j)))
            if j < 3:
                reply(e, bg_posts[target][0], k + j)
    for k, o in enumerate(OBSERVERS[40:]):
        likes.append((o, bg_posts[BACKGROUND[k]][1], at(k)))

    async with ctx.db.write() as conn:
        await conn.execute(t.actors.insert(), rows)
        ids = {
            r.username: r.id
            for r in await conn.execute(
                sa.select(t.actors.c.username, t.actors.c.id).where(
                    t.actors.c.username.in_([r["username"] for r in rows])
                )
            )
        }
        ids[manager_username] = manager_id
        members = [ids[u] for u in locals_ + REMOTE_MEMBERS]
        await conn.execute(
            t.follows.insert(),
            [
                {
                    "follower_id": a,
                    "target_id": community.actor_id,
                    "state": "accepted",
                    "created_at": now,
                }
                for a in members
            ],
        )
        await conn.execute(
            t.posts.insert(),
            [
                {
                    "uri": p["uri"],
                    "author_id": ids[p["author"]],
                    "local": True,
                    "audience": "community",
                    "community_id": community.id,
                    "created_at": p["at"],
                    "content_html": "<p>generated</p>",
                }
                for p in posts
            ],
        )
        post_ids = {
            r.uri: r.id
            for r in await conn.execute(
                sa.select(t.posts.c.uri, t.posts.c.id).where(t.posts.c.community_id == community.id)
            )
        }
        await conn.execute(
            t.posts.insert(),
            [
                {
                    "uri": uri,
                    "author_id": ids[a],
                    "local": a not in OUTSIDERS,
                    "audience": aud,
                    "community_id": community.id,
                    "created_at": when,
                    "in_reply_to_id": post_ids[parent],
                    "thread_root_id": post_ids[parent],
                    "content_html": "<p>reply</p>",
                }
                for a, parent, aud, uri, when in replies
            ],
        )
        await conn.execute(
            t.posts.insert(),
            [
                {
                    "uri": f"{base}/gen/boost/{n}",
                    "author_id": ids[a],
                    "local": True,
                    "audience": "community",
                    "reblog_of_id": post_ids[p],
                    "created_at": when,
                }
                for n, (a, p, when) in enumerate(boosts)
            ],
        )
        await conn.execute(
            t.favourites.insert(),
            [
                {"actor_id": ids[a], "post_id": post_ids[p], "created_at": when}
                for a, p, when in likes
            ],
        )
        await conn.execute(
            t.post_mentions.insert(),
            [{"post_id": post_ids[p], "actor_id": ids[u]} for p, u in mentions],
        )
        role = await conn.execute(
            t.roles.insert().values(community_id=community.id, name="Lab host", created_at=now)
        )
        await conn.execute(
            t.role_holders.insert().values(
                role_id=int(role.inserted_primary_key[0]),
                actor_id=ids[CATALYST_WITH_ROLE],
                state="held",
                created_at=now - timedelta(days=3),
            )
        )

    world = World(
        community.id,
        ids,
        manager_username,
        interactions=len(posts) + len(replies) + len(likes) + len(boosts) + len(mentions),
    )
    world.names = {v: k for k, v in ids.items()}
    return world
