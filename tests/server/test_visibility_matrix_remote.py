"""The visibility matrix for REMOTE viewers: every ActivityPub surface × every audience × every kind
of remote viewer, on both backends, over real HTTP with real HTTP signatures.

One world per backend: a running instance where ``ana`` wrote one post in each of the seven
audiences (all but ``direct`` in the community ``rvc``), one reply in each audience under a public
root post, a purpose proposal and the poll deciding it, a public and a community idea, a roadmap item
and an event in each item audience; and three more communities, one per member-list visibility.
Every post and reply mentions the remote actor ``men@mention.example``.

The remote viewers are actors on other hosts whose rows (with their public keys) the instance
already holds, as after a first signed fetch; each request is signed with the viewer's private key
and verified by the instance like any other signed GET:

- ``anonymous``: no signature;
- ``stranger``: an actor on a host with no relation to anything here;
- ``follower``: an accepted follower of ``ana``;
- ``cmember``: an accepted member of the community (an accepted follow of its Group);
- ``partner``: an actor on a partner instance (its host is in ``partners``);
- ``mentioned``: the actor every post mentions (and a member of another community, which opens nothing here);
- ``refused``: a follower of ``ana`` and a member of every community, on a host the admin suspended
  afterwards: it reads no more than ``anonymous``.

Each cell is one test, named ``[backend-surface-audience-viewer]``; the expected answers are the
table ``EXPECTED`` below, written out cell by cell so a reviewer can read and challenge it.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from federation.signatures import sign_request
from server import clock
from server.app import create_app
from server.config import load_settings
from server.keys import CTX
from server.services import (
    accounts,
    communities,
    community_events,
    ideas,
    posts,
    purpose_decisions,
    purpose_phases,
    purpose_proposals,
    roadmap,
)
from server.services.keys import generate_key_pair
from server.storage import schema as t
from server.visibility import ITEM_AUDIENCES, Audience
from tests.conftest import PASSWORD, PG_URL, _pg_admin_url, _pg_exec, _with_db, free_port

# Every cell reads from instances serving HTTP (started by the module's ``world``).
pytestmark = pytest.mark.slow

A = Audience
AP = "application/activity+json"
VIEWERS = ("anonymous", "stranger", "follower", "cmember", "partner", "mentioned", "refused")
HOSTS = {
    "stranger": "stranger.example",
    "follower": "follower.example",
    "cmember": "member.example",
    "partner": "partner.example",
    "mentioned": "mention.example",
    "refused": "refused.example",
}
NAMES = {
    "stranger": "stra",
    "follower": "fol",
    "cmember": "cmem",
    "partner": "par",
    "mentioned": "men",
    "refused": "ref",
}

# What each surface is:
# post            GET /users/ana/posts/{id}                 (Note; the post in that audience)
# post_activity   GET /users/ana/posts/{id}/activity        (its Create)
# reply           GET /users/ana/posts/{reply id}           (a reply in that audience under a public post)
# author_outbox   GET /users/ana/outbox?page=1              (a listing: unlisted posts are left out)
# community_outbox GET /communities/rvc/outbox?page=1       (a listing of the community's posts)
# proposal        GET /users/ana/posts/{id}                 (a purpose proposal: a post to the community)
# decision        GET /users/ana/posts/{id}                 (the decision on it: a Question to the community)
# idea            GET /users/ana/posts/{id}                 (an idea in the idea box: its post, public or community)
# proposal_in_process, decision_in_process
#                 GET /communities/rvc/purpose/process      (the purpose process: proposals and decisions)
# roadmap_item    GET /c/rvc/roadmap/{id}  Accept: AP       (Article)
# item_followers  GET /c/rvc/roadmap/{id}/followers         (the item's followers count)
# roadmap         GET /communities/rvc/roadmap              (the roadmap collection)
# event           GET /c/rvc/events/{id}  Accept: AP        (Event)
#
# ``members`` never leaves the instance: no remote viewer ever gets it. Roadmap items and events have
# no followers audience and no mentions. ``y`` = the viewer gets the object, ``.`` = it does not.
EXPECTED_TABLE = """
surface           audience   anonymous stranger follower cmember partner mentioned refused
post              public     y y y y y y y
post              unlisted   y y y y y y y
post              followers  . . y . . y .
post              community  . . . y . y .
post              members    . . . . . . .
post              partners   . . . . y y .
post              direct     . . . . . y .
post_activity     public     y y y y y y y
post_activity     unlisted   y y y y y y y
post_activity     followers  . . y . . y .
post_activity     community  . . . y . y .
post_activity     members    . . . . . . .
post_activity     partners   . . . . y y .
post_activity     direct     . . . . . y .
reply             public     y y y y y y y
reply             unlisted   y y y y y y y
reply             followers  . . y . . y .
reply             community  . . . y . y .
reply             members    . . . . . . .
reply             partners   . . . . y y .
reply             direct     . . . . . y .
author_outbox     public     y y y y y y y
author_outbox     unlisted   . . . . . . .
author_outbox     followers  . . y . . y .
author_outbox     community  . . . y . y .
author_outbox     members    . . . . . . .
author_outbox     partners   . . . . y y .
author_outbox     direct     . . . . . y .
community_outbox  public     y y y y y y y
community_outbox  unlisted   . . . . . . .
community_outbox  followers  . . y . . y .
community_outbox  community  . . . y . y .
community_outbox  members    . . . . . . .
community_outbox  partners   . . . . y y .
proposal          community  . . . y . . .
decision          community  . . . y . . .
idea              public     y y y y y y y
idea              community  . . . y . . .
proposal_in_process community . . . y . . .
decision_in_process community . . . y . . .
roadmap_item      public     y y y y y y y
roadmap_item      unlisted   y y y y y y y
roadmap_item      community  . . . y . . .
roadmap_item      members    . . . . . . .
roadmap_item      partners   . . . . y . .
item_followers    public     y y y y y y y
item_followers    unlisted   y y y y y y y
item_followers    community  . . . y . . .
item_followers    members    . . . . . . .
item_followers    partners   . . . . y . .
roadmap           public     y y y y y y y
roadmap           unlisted   y y y y y y y
roadmap           community  . . . y . . .
roadmap           members    . . . . . . .
roadmap           partners   . . . . y . .
event             public     y y y y y y y
event             unlisted   y y y y y y y
event             community  . . . y . . .
event             members    . . . . . . .
event             partners   . . . . y . .
"""


# Memberships: ``ana`` is a member of three communities, one per member-list visibility (``public``,
# ``members``: only its members see who is in, ``instance``: only this instance's members), and
# ``cmember`` of all three.
# members_collection  GET /communities/{handle}/members?page=1   (lists ana)
# author_following    GET /users/ana/following?page=1            (lists the community's Group)
MEMBERSHIP_TABLE = """
surface             visibility anonymous stranger follower cmember partner mentioned refused
members_collection  public     y y y y y y y
members_collection  members    . . . y . . .
members_collection  instance   . . . . . . .
author_following    public     y y y y y y y
author_following    members    . . . y . . .
author_following    instance   . . . . . . .
"""
MEMBER_LISTS = {"public": "rvpub", "members": "rvmem", "instance": "rvins"}


def _parse(table: str) -> dict[tuple[str, str, str], bool]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0][2:], lines[1:]
    assert tuple(header) == VIEWERS, header
    cells = {}
    for surface, audience, *marks in rows:
        assert len(marks) == len(VIEWERS) and set(marks) <= {"y", "."}, (surface, audience)
        for viewer, mark in zip(VIEWERS, marks, strict=True):
            cells[(surface, audience, viewer)] = mark == "y"
    return cells


EXPECTED = _parse(EXPECTED_TABLE)
CELLS = [pytest.param(s, a, v, id=f"{s}-{a}-{v}") for (s, a, v) in EXPECTED]
MEMBERSHIP = _parse(MEMBERSHIP_TABLE)
MEMBERSHIP_CELLS = [pytest.param(s, m, v, id=f"{s}-{m}-{v}") for (s, m, v) in MEMBERSHIP]
EVENT_TIME = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)


@dataclass
class RemoteWorld:
    """A running instance with the matrix data and the remote viewers' keys, on a private loop."""

    loop: asyncio.AbstractEventLoop
    app: Any = None
    server: TestServer | None = None
    keys: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # viewer -> (key id, private PEM)
    ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, audience) -> row id
    uris: dict[tuple[str, str], str] = field(default_factory=dict)
    responses: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    ana_id: int = 0

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    @property
    def base(self) -> str:
        return self.app[CTX].base

    def get(self, viewer: str, path: str) -> tuple[int, Any]:
        """GET ``path`` as ActivityPub, signed as ``viewer`` (unsigned when anonymous); cached."""
        if (viewer, path) not in self.responses:
            self.responses[(viewer, path)] = self.run(self._fetch(viewer, path))
        return self.responses[(viewer, path)]

    async def _fetch(self, viewer: str, path: str) -> tuple[int, Any]:
        url = f"{self.base}{path}"
        headers = {"Accept": AP}
        if viewer != "anonymous":
            key_id, pem = self.keys[viewer]
            headers = sign_request("GET", url, headers, None, key_id, pem)
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers, allow_redirects=False) as resp,
        ):
            body = await resp.json(content_type=None) if resp.status == 200 else await resp.text()
            return resp.status, body


async def _remote_actor(conn: Any, viewer: str) -> tuple[int, str, str]:
    """An actor on another host, known with its key (as after its first signed request)."""
    private, public = generate_key_pair()
    host, name = HOSTS[viewer], NAMES[viewer]
    uri = f"https://{host}/users/{name}"
    now = clock.now()
    res = await conn.execute(
        t.actors.insert().values(
            uri=uri,
            kind="person",
            username=name,
            domain=host,
            inbox=f"{uri}/inbox",
            shared_inbox=f"https://{host}/inbox",
            outbox=f"{uri}/outbox",
            followers_url=f"{uri}/followers",
            key_id=f"{uri}#main-key",
            public_key_pem=public,
            url=uri,
            created_at=now,
            updated_at=now,
            fetched_at=now,
        )
    )
    return int(res.inserted_primary_key[0]), f"{uri}#main-key", private


async def _build(world: RemoteWorld, database_url: str, data_dir: Path) -> None:
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(data_dir),
        database_url=database_url,
        host="127.0.0.1",
        port=port,
        allow_private_addresses=True,
        secret="rmatrix-" + uuid.uuid4().hex,
        run_workers=False,
    )
    world.app = create_app(settings)
    world.server = TestServer(world.app, host="127.0.0.1", port=port)
    await world.server.start_server()
    ctx = world.app[CTX]
    ana = await accounts.create_account(
        ctx.db, ctx.settings, username="ana", email="ana@example.test", password=PASSWORD
    )
    world.ana_id = ana.actor_id
    community = await communities.create_community(
        ctx,
        ana.actor_id,
        handle="rvc",
        name="Remote matrix",
        purpose_text="Check who sees what from afar.",
    )
    other = await communities.create_community(
        ctx, ana.actor_id, handle="rvother", name="Elsewhere", purpose_text="Other."
    )
    groups = []
    for visibility, handle in MEMBER_LISTS.items():
        other = await communities.create_community(
            ctx,
            ana.actor_id,
            handle=handle,
            name=f"Members {visibility}",
            purpose_text="Who is in?",
            member_list_visibility=visibility,
        )
        groups.append(other.id)
    actor_ids = {}
    async with ctx.db.write() as conn:
        for viewer in HOSTS:
            actor_ids[viewer], key_id, pem = await _remote_actor(conn, viewer)
            world.keys[viewer] = (key_id, pem)
        now = clock.now()
        group = (
            await conn.execute(
                sa.select(t.communities.c.actor_id).where(t.communities.c.id == community.id)
            )
        ).scalar_one()
        group_actors = (
            await conn.execute(
                sa.select(t.communities.c.actor_id).where(t.communities.c.id.in_(groups))
            )
        ).scalars()
        await conn.execute(
            t.follows.insert(),
            [
                {
                    "follower_id": actor_ids["follower"],
                    "target_id": ana.actor_id,
                    "state": "accepted",
                    "created_at": now,
                },
                *(
                    {
                        "follower_id": actor_ids["cmember"],
                        "target_id": g,
                        "state": "accepted",
                        "created_at": now,
                    }
                    for g in [group, *group_actors]
                ),
                {
                    "follower_id": actor_ids["refused"],
                    "target_id": ana.actor_id,
                    "state": "accepted",
                    "created_at": now,
                },
                *(
                    {
                        "follower_id": actor_ids["refused"],
                        "target_id": g,
                        "state": "accepted",
                        "created_at": now,
                    }
                    for g in [group, *group_actors]
                ),
                # Being a member of some other community opens nothing here.
                {
                    "follower_id": actor_ids["mentioned"],
                    "target_id": other.actor_id,
                    "state": "accepted",
                    "created_at": now,
                },
            ],
        )
        await conn.execute(
            t.partners.insert().values(domain=HOSTS["partner"], state="active", created_at=now)
        )
        await conn.execute(
            t.domain_blocks.insert().values(
                domain=HOSTS["refused"], severity="suspend", created_at=now
            )
        )

    def in_community(audience: Audience) -> int | None:
        return None if audience is A.DIRECT else community.id

    for audience in Audience:
        world.ids[("post", audience.value)] = await posts.create_post(
            ctx,
            ana.actor_id,
            posts.Draft(
                f"rm{audience.value} for @men@mention.example",
                audience=audience,
                community_id=in_community(audience),
            ),
        )
    root = await posts.create_post(
        ctx, ana.actor_id, posts.Draft("rmroot thread", audience=A.PUBLIC)
    )
    world.ids[("root", "public")] = root
    for audience in Audience:
        world.ids[("reply", audience.value)] = await posts.create_post(
            ctx,
            ana.actor_id,
            posts.Draft(
                f"rr{audience.value} @men@mention.example",
                audience=audience,
                in_reply_to_id=root,
                community_id=community.id if audience is A.COMMUNITY else None,
            ),
        )
    for audience in ITEM_AUDIENCES:
        world.ids[("item", audience.value)] = await roadmap.create_item(
            ctx, ana.actor_id, community.id, title=f"ri{audience.value}", audience=audience.value
        )
        world.ids[("event", audience.value)] = await community_events.create_event(
            ctx,
            ana.actor_id,
            community.id,
            community_events.EventInput(
                title=f"re{audience.value}",
                starts_at=EVENT_TIME,
                place_name="Hall",
                audience=audience.value,
            ),
        )
    for audience in (A.PUBLIC, A.COMMUNITY):
        idea = await ideas.submit_idea(
            ctx, ana.actor_id, community.id, title=f"rd{audience.value}", audience=audience.value
        )
        async with ctx.db.read() as conn:
            world.ids[("idea", audience.value)] = (
                await conn.execute(sa.select(t.ideas.c.post_id).where(t.ideas.c.id == idea))
            ).scalar_one()
    for phase in ("inventory", "discussion", "drafting"):
        await purpose_phases.set_phase(ctx, ana.actor_id, community.id, phase)
    proposal_post = await purpose_proposals.create_proposal(
        ctx, ana.actor_id, community.id, "Check who sees what, near and far.", ""
    )
    world.ids[("proposal", "community")] = proposal_post
    async with ctx.db.read() as conn:
        proposal_id = (
            await conn.execute(
                sa.select(t.purpose_proposals.c.id).where(
                    t.purpose_proposals.c.post_id == proposal_post
                )
            )
        ).scalar_one()
    decision_id = await purpose_decisions.open_decision(
        ctx, ana.actor_id, community.id, "poll", [proposal_id]
    )
    async with ctx.db.read() as conn:
        world.ids[("decision", "community")] = (
            await conn.execute(
                sa.select(t.purpose_decisions.c.post_id).where(
                    t.purpose_decisions.c.id == decision_id
                )
            )
        ).scalar_one()
    async with ctx.db.read() as conn:
        for (kind, audience), row_id in world.ids.items():
            table = {"item": t.roadmap_items, "event": t.events}.get(kind, t.posts)
            world.uris[(kind, audience)] = (
                await conn.execute(sa.select(table.c.uri).where(table.c.id == row_id))
            ).scalar_one()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    pg_template: str | None,
    tmp_path_factory: pytest.TempPathFactory,
):  # type: ignore[no-untyped-def]
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("KOERS_TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    tmp = tmp_path_factory.mktemp(f"rmatrix-{request.param}")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="rmatrix-loop", daemon=True)
    thread.start()
    w = RemoteWorld(loop=loop)
    pg_name = None
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp / "rmatrix.sqlite3")
        url = f"sqlite+aiosqlite:///{tmp / 'rmatrix.sqlite3'}"
    else:
        pg_name = f"koers_rmatrix_{uuid.uuid4().hex[:10]}"
        w.run(_pg_exec(f'CREATE DATABASE "{pg_name}" TEMPLATE "{pg_template}"'))
        url = _with_db(_pg_admin_url(), pg_name)
    try:
        w.run(_build(w, url, tmp / "data"))
        yield w
    finally:
        if w.server is not None:
            w.run(w.server.close())
        if pg_name:
            w.run(_pg_exec(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _single(world: RemoteWorld, viewer: str, path: str, uri: str) -> bool:
    """A document by id: 200 with that very object, or 404 (never another status, never a page)."""
    status, body = world.get(viewer, path)
    assert status in (200, 404, 410), (path, viewer, status, body)
    if status != 200:
        return False
    assert body["id"] == uri or body["id"].startswith(uri), (path, body.get("id"))
    return True


def _listing(world: RemoteWorld, viewer: str, path: str, uri: str) -> bool:
    """Whether the object ``uri`` is in the collection at ``path`` (items are ids, activities or objects)."""
    status, body = world.get(viewer, path)
    assert status == 200, (path, viewer, status, body)
    found = set()
    for item in body.get("orderedItems", []):
        if isinstance(item, str):
            found.add(item)
        else:
            found.add(item.get("id"))
            if isinstance(item.get("object"), dict):
                found.add(item["object"].get("id"))
    return uri in found


def observe(world: RemoteWorld, surface: str, audience: str, viewer: str) -> bool:
    """Does ``viewer`` get the ``audience`` object on ``surface``?"""
    kind = {
        "post_activity": "post",
        "author_outbox": "post",
        "community_outbox": "post",
        "roadmap_item": "item",
        "item_followers": "item",
        "roadmap": "item",
        "proposal_in_process": "proposal",
        "decision_in_process": "decision",
    }.get(surface, surface)
    row_id, uri = world.ids[(kind, audience)], world.uris[(kind, audience)]
    if surface in ("proposal_in_process", "decision_in_process"):
        status, body = world.get(viewer, "/communities/rvc/purpose/process")
        assert status == 200, (viewer, status, body)
        listed = body["koers:proposals"] if kind == "proposal" else body["koers:decisions"]
        return uri in [entry["id"] for entry in listed]
    if surface in ("post", "reply", "proposal", "decision", "idea"):
        return _single(world, viewer, f"/users/ana/posts/{row_id}", uri)
    if surface == "post_activity":
        return _single(world, viewer, f"/users/ana/posts/{row_id}/activity", f"{uri}/activity")
    if surface == "author_outbox":
        return _listing(world, viewer, "/users/ana/outbox?page=1", uri)
    if surface == "community_outbox":
        return _listing(world, viewer, "/communities/rvc/outbox?page=1", uri)
    if surface == "roadmap_item":
        return _single(world, viewer, f"/c/rvc/roadmap/{row_id}", uri)
    if surface == "item_followers":
        return _single(world, viewer, f"/c/rvc/roadmap/{row_id}/followers", f"{uri}/followers")
    if surface == "roadmap":
        return _listing(world, viewer, "/communities/rvc/roadmap", uri)
    assert surface == "event", surface
    return _single(world, viewer, f"/c/rvc/events/{row_id}", uri)


@pytest.mark.parametrize(("surface", "audience", "viewer"), CELLS)
def test_cell(world: RemoteWorld, surface: str, audience: str, viewer: str) -> None:
    expected = EXPECTED[(surface, audience, viewer)]
    got = observe(world, surface, audience, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the {audience} object on {surface}"
    )


@pytest.mark.parametrize(("surface", "visibility", "viewer"), MEMBERSHIP_CELLS)
def test_membership_cell(world: RemoteWorld, surface: str, visibility: str, viewer: str) -> None:
    """Who is in a community shows as far as its member list may be seen — on its members collection
    and on its members' following collections alike."""
    handle = MEMBER_LISTS[visibility]
    expected = MEMBERSHIP[(surface, visibility, viewer)]
    if surface == "members_collection":
        status, body = world.get(viewer, f"/communities/{handle}/members?page=1")
        assert status in (200, 404), (status, body)
        got = status == 200 and f"{world.base}/users/ana" in body["orderedItems"]
    else:
        got = _listing(
            world, viewer, "/users/ana/following?page=1", f"{world.base}/communities/{handle}"
        )
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} learn who is in a {visibility} list on {surface}"
    )


def test_private_memberships_stay_off_the_following_page_and_api(world: RemoteWorld) -> None:
    """The web page and the client API of whom ``ana`` follows ask the same module as ActivityPub."""

    async def fetch(path: str) -> str:
        async with aiohttp.ClientSession() as session, session.get(f"{world.base}{path}") as resp:
            assert resp.status == 200, path
            return await resp.text()

    page = world.run(fetch("/@ana/following"))
    api = world.run(fetch(f"/api/v1/accounts/{world.ana_id}/following"))
    for text in (page, api):
        assert "rvpub" in text and "rvmem" not in text and "rvins" not in text


def test_table_covers_every_audience_and_is_not_trivial() -> None:
    """Every post surface has all seven audiences, every item surface the item audiences; only
    public/unlisted reach anonymous, and nothing ``members`` ever leaves the instance."""
    for surface in ("post", "post_activity", "reply", "author_outbox"):
        assert {a for (s, a, _v) in EXPECTED if s == surface} == {a.value for a in Audience}, (
            surface
        )
    for surface in ("roadmap_item", "item_followers", "roadmap", "event"):
        assert {a for (s, a, _v) in EXPECTED if s == surface} == {
            a.value for a in ITEM_AUDIENCES
        }, surface
    for (_s, audience, viewer), seen in EXPECTED.items():
        if audience == "members":
            assert not seen
        if viewer == "anonymous" and seen:
            assert audience in ("public", "unlisted")


@pytest.mark.parametrize("viewer", VIEWERS)
def test_replies_count_counts_only_visible_replies(world: RemoteWorld, viewer: str) -> None:
    """The thread root's ``replies.totalItems`` tells each viewer of the replies they may read, not
    of the followers-only, partners or direct ones they may not (their existence is not theirs to know)."""
    status, root = world.get(viewer, f"/users/ana/posts/{world.ids[('root', 'public')]}")
    assert status == 200, root
    readable = sum(EXPECTED[("reply", a.value, viewer)] for a in Audience)
    assert root["replies"]["totalItems"] == readable


def test_replies_count_in_the_client_api_counts_only_visible_replies(world: RemoteWorld) -> None:
    """The client API (and the web page, same loader) count replies for the reader as well."""

    async def fetch() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.get(
                f"{world.base}/api/v1/statuses/{world.ids[('root', 'public')]}"
            ) as resp:
                assert resp.status == 200
                return await resp.json()

    assert (
        world.run(fetch())["replies_count"]
        == sum(EXPECTED[("reply", a.value, "anonymous")] for a in Audience)
        == 2
    )


def test_signatures_are_really_checked(world: RemoteWorld) -> None:
    """A request signed with the wrong key is treated as anonymous: the follower's key does not open
    the partner's view, and a forged signature does not open the follower's."""
    key_id, _pem = world.keys["follower"]
    _other_id, other_pem = world.keys["partner"]
    uri = world.uris[("post", "followers")]
    world.keys["forged"] = (key_id, other_pem)
    try:
        assert not _single(
            world, "forged", f"/users/ana/posts/{world.ids[('post', 'followers')]}", uri
        )
    finally:
        del world.keys["forged"]
