"""The visibility matrix: every audience × every surface × every kind of viewer, on both backends.

One world per backend: a running instance where ``ana`` wrote one post in each of the seven
audiences (all but ``direct`` in the community ``vmc``, every one mentioning ``mia`` and tagged
``#vmtag``), and one reply in each audience under a public root post. Each cell of the matrix is
one test, named ``[backend-surface-audience-viewer]``; the expected answer comes from one truth
table (DESIGN.md "Visibility: one policy, everywhere") and the listing rules of each surface.

The world lives on an event loop in its own thread, so building it once per module works with
function-scoped async fixtures elsewhere. Remote viewers are added by the federation tests.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.config import load_settings
from server.keys import CTX
from server.services import (
    accounts,
    communities,
    community_events,
    follows,
    ideas,
    oauth,
    posts,
    purpose_phases,
    purpose_proposals,
    roadmap,
    timelines,
)
from server.visibility import (
    ITEM_AUDIENCES,
    Audience,
    Viewer,
    can_see_event,
    can_see_idea,
    can_see_item,
    can_see_post,
)
from tests.conftest import PASSWORD, PG_URL, _pg_admin_url, _pg_exec, _with_db, free_port, web_login

# Every cell reads from instances serving HTTP (started by the module's ``world``).
pytestmark = pytest.mark.slow

A = Audience
VIEWERS = (
    "anonymous",
    "author",
    "local_member",
    "follower",
    "community_member",
    "community_manager",
    "admin",
    "mentioned",
)
USERNAMES = {
    "author": "ana",
    "local_member": "lou",
    "follower": "fred",
    "community_member": "cmem",
    "community_manager": "cman",
    "admin": "adele",
    "mentioned": "mia",
}
LOCAL = frozenset(VIEWERS) - {"anonymous"}

# Who may see an object of each audience (DESIGN.md). Admins get no extra sight into private posts.
CAN_SEE: dict[Audience, frozenset[str]] = {
    A.PUBLIC: frozenset(VIEWERS),
    A.UNLISTED: frozenset(VIEWERS),
    A.FOLLOWERS: frozenset({"author", "follower", "mentioned"}),
    A.COMMUNITY: frozenset({"author", "community_member", "community_manager", "mentioned"}),
    A.MEMBERS: LOCAL,
    A.PARTNERS: LOCAL,  # plus members of partner instances (federation tests)
    A.DIRECT: frozenset({"author", "mentioned"}),
}


def in_community(audience: Audience) -> bool:
    return audience is not A.DIRECT


def sees(audience: Audience, viewer: str) -> bool:
    return viewer in CAN_SEE[audience]


def listed(audience: Audience, viewer: str) -> bool:
    """Visible and meant for listings (unlisted posts are left out)."""
    return sees(audience, viewer) and audience is not A.UNLISTED


def on_home(audience: Audience, viewer: str) -> bool:
    """Home: own posts, people followed, joined communities — each only when visible."""
    reaches = viewer in ("author", "follower") or (
        viewer in ("community_member", "community_manager") and in_community(audience)
    )
    return reaches and sees(audience, viewer)


# surface -> expected(audience, viewer)
EXPECTED: dict[str, Callable[[Audience, str], bool]] = {
    "can_see_post": sees,
    "post_page": sees,
    "thread_replies": sees,
    "search": sees,
    "profile_listing_sql": lambda a, v: sees(a, v) and (a is not A.UNLISTED or v == "author"),
    "profile_page": lambda a, v: sees(a, v) and (a is not A.UNLISTED or v == "author"),
    "home_feed": on_home,
    "public_timeline": lambda a, v: a is A.PUBLIC,
    "tag_page": listed,
    "community_page": lambda a, v: listed(a, v) and in_community(a),
    "community_atom_feed": lambda a, v: a is A.PUBLIC,
    "profile_atom_feed": lambda a, v: a is A.PUBLIC,
    "api_status": sees,
    "api_context": sees,
    "api_home": on_home,
    "api_public": lambda a, v: a is A.PUBLIC,
    "api_tag": listed,
    "api_account_statuses": lambda a, v: sees(a, v) and (a is not A.UNLISTED or v == "author"),
    # Like Mastodon, searching statuses needs a login; logged in, it finds what the viewer may see.
    "api_search": lambda a, v: sees(a, v) and v != "anonymous",
    "api_direct": lambda a, v: a is A.DIRECT and sees(a, v),
}
API_LISTS = {
    "api_home": "/api/v1/timelines/home?limit=40",
    "api_public": "/api/v1/timelines/public?limit=40",
    "api_tag": "/api/v1/timelines/tag/vmtag?limit=40",
    "api_account_statuses": "/api/v1/accounts/{author}/statuses?limit=40",
    "api_direct": "/api/v1/timelines/direct?limit=40",
}


def item_sees(audience: Audience, viewer: str) -> bool:
    """Roadmap items have no followers audience and no mentions: ``mia`` is just a local member."""
    return sees(audience, "local_member" if viewer == "mentioned" else viewer)


# Roadmap items: the item page and the community's roadmap board (which, like a thread, shows
# unlisted items to those who reach the community: it is the community's own board, not a feed).
ITEM_EXPECTED: dict[str, Callable[[Audience, str], bool]] = {
    "can_see_item": item_sees,
    "item_page": item_sees,
    "roadmap_page": item_sees,
}


# Ideas (public or for the community's members): the idea page, the idea box, and the Koers API;
# like roadmap items they have no mentions, so ``mia`` is just a local member.
IDEA_AUDIENCES = (A.PUBLIC, A.COMMUNITY)
IDEA_EXPECTED: dict[str, Callable[[Audience, str], bool]] = {
    "can_see_idea": item_sees,
    "idea_page": item_sees,
    "idea_box": item_sees,
    "api_idea": item_sees,
}


def marker(audience: Audience) -> str:
    return f"vm{audience.value}q"


def reply_marker(audience: Audience) -> str:
    return f"vr{audience.value}q"


@dataclass
class World:
    """A running instance with the matrix data, driven from a private event loop thread."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    server: TestServer | None = None
    app: Any = None
    clients: dict[str, TestClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    actor_ids: dict[str, int] = field(default_factory=dict)
    post_ids: dict[Audience, int] = field(default_factory=dict)
    reply_ids: dict[Audience, int] = field(default_factory=dict)
    item_ids: dict[Audience, int] = field(default_factory=dict)
    idea_ids: dict[Audience, int] = field(default_factory=dict)
    event_ids: dict[Audience, int] = field(default_factory=dict)
    initiative_ids: dict[Audience, int] = field(default_factory=dict)
    root_id: int = 0
    proposal_id: int = 0
    api_status_works: bool = False
    pages: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def viewer(self, kind: str) -> Viewer:
        if kind == "anonymous":
            return Viewer()
        return Viewer(actor_id=self.actor_ids[kind], local=True, is_admin=kind == "admin")

    def get(self, viewer: str, path: str, *, cache: bool = True) -> tuple[int, str]:
        """GET a page as this viewer (cached: pages are read-only here)."""
        key = (viewer, path)
        if not cache or key not in self.pages:

            async def fetch() -> tuple[int, str]:
                headers = (
                    {"Authorization": f"Bearer {self.tokens[viewer]}"}
                    if path.startswith("/api/") and viewer in self.tokens
                    else {}
                )
                resp = await self.clients[viewer].get(path, headers=headers)
                return resp.status, await resp.text()

            self.pages[key] = self.run(fetch())
        return self.pages[key]

    def service(self, fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        async def go() -> Any:
            async with self.app[CTX].db.read() as conn:
                return await fn(conn)

        return self.run(go())


async def _build(world: World, database_url: str, data_dir: Path) -> None:
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
        secret="matrix-" + uuid.uuid4().hex,
    )
    world.app = create_app(settings)
    world.server = TestServer(world.app, host="127.0.0.1", port=port)
    anonymous = TestClient(world.server)
    await anonymous.start_server()
    world.clients["anonymous"] = anonymous
    ctx = world.app[CTX]
    for kind, name in USERNAMES.items():
        acc = await accounts.create_account(
            ctx.db,
            ctx.settings,
            username=name,
            email=f"{name}@example.test",
            password=PASSWORD,
            is_admin=kind == "admin",
        )
        world.actor_ids[kind] = acc.actor_id
    ids = world.actor_ids
    community = await communities.create_community(
        ctx,
        ids["community_manager"],
        handle="vmc",
        name="Matrix",
        purpose_text="Check who sees what.",
    )
    for kind in ("author", "community_member"):
        assert await communities.join(ctx, ids[kind], community.id) == "accepted"
    assert await follows.follow(ctx, ids["follower"], ids["author"]) == "accepted"

    for audience in Audience:
        world.post_ids[audience] = await posts.create_post(
            ctx,
            ids["author"],
            posts.Draft(
                f"{marker(audience)} for @mia #vmtag",
                audience=audience,
                community_id=community.id if in_community(audience) else None,
            ),
        )
    world.root_id = await posts.create_post(
        ctx, ids["author"], posts.Draft("vmrootq thread", audience=A.PUBLIC)
    )
    for audience in Audience:
        world.reply_ids[audience] = await posts.create_post(
            ctx,
            ids["author"],
            posts.Draft(
                f"{reply_marker(audience)} @mia",
                audience=audience,
                in_reply_to_id=world.root_id,
                community_id=community.id if audience is A.COMMUNITY else None,
            ),
        )

    for audience in ITEM_AUDIENCES:
        world.item_ids[audience] = await roadmap.create_item(
            ctx, ids["author"], community.id, title=f"vi{audience.value}q", audience=audience.value
        )

    from server.services import initiatives

    for audience in ITEM_AUDIENCES:  # initiatives are roadmap items led by whoever started them
        world.initiative_ids[audience] = await initiatives.start(
            ctx, ids["author"], community.id, title=f"vn{audience.value}q", audience=audience.value
        )

    for audience in IDEA_AUDIENCES:
        world.idea_ids[audience] = await ideas.submit_idea(
            ctx, ids["author"], community.id, title=f"vd{audience.value}q", audience=audience.value
        )

    for audience in ITEM_AUDIENCES:
        world.event_ids[audience] = await community_events.create_event(
            ctx,
            ids["author"],
            community.id,
            community_events.EventInput(
                title=f"ve{audience.value}q",
                starts_at=EVENT_TIME,
                place_name="Hall",
                audience=audience.value,
            ),
        )

    for phase in ("inventory", "discussion", "drafting"):
        await purpose_phases.set_phase(ctx, ids["community_manager"], community.id, phase)
    await purpose_proposals.create_proposal(
        ctx, ids["author"], community.id, "vpproposalq: check who sees what.", ""
    )
    async with ctx.db.read() as conn:
        (world.proposal_id,) = [
            p.id
            for p in await purpose_proposals.proposals(conn, world.viewer("author"), community.id)
        ]

    app_row = await oauth.register_app(
        ctx,
        name="matrix",
        redirect_uris=["urn:ietf:wg:oauth:2.0:oob"],
        scopes=("read",),
        website=None,
    )
    for kind, name in USERNAMES.items():
        client = TestClient(world.server)
        await client.start_server()
        await web_login(client, name)
        world.clients[kind] = client
        user_id = await _user_id(ctx, name)
        world.tokens[kind] = (await oauth.issue_for(ctx, app_row, user_id, ("read",))).token
    probe = await world.clients["author"].get(
        f"/api/v1/statuses/{world.post_ids[A.PUBLIC]}",
        headers={"Authorization": f"Bearer {world.tokens['author']}"},
    )
    world.api_status_works = probe.status == 200


async def _user_id(ctx: Any, username: str) -> int:
    import sqlalchemy as sa

    from server.storage import schema as t

    async with ctx.db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(t.users.c.id)
                    .join(t.actors, t.actors.c.id == t.users.c.actor_id)
                    .where(t.actors.c.username == username, t.actors.c.domain.is_(None))
                )
            ).scalar_one()
        )


async def _teardown(world: World) -> None:
    for client in world.clients.values():
        await client.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    pg_template: str | None,
    tmp_path_factory: pytest.TempPathFactory,
):  # type: ignore[no-untyped-def]
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("KOERS_TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    tmp = tmp_path_factory.mktemp(f"matrix-{request.param}")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="matrix-loop", daemon=True)
    thread.start()
    w = World(loop=loop, thread=thread)
    pg_name = None
    if request.param == "sqlite":
        target = tmp / "matrix.sqlite3"
        shutil.copy(sqlite_template, target)
        url = f"sqlite+aiosqlite:///{target}"
    else:
        pg_name = f"koers_matrix_{uuid.uuid4().hex[:10]}"
        w.run(_pg_exec(f'CREATE DATABASE "{pg_name}" TEMPLATE "{pg_template}"'))
        url = _with_db(_pg_admin_url(), pg_name)
    try:
        w.run(_build(w, url, tmp / "data"))
        yield w
    finally:
        w.run(_teardown(w))
        if pg_name:
            w.run(_pg_exec(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def observe(world: World, surface: str, audience: Audience, viewer: str) -> bool:
    """Does ``viewer`` get the ``audience`` post on ``surface``?"""
    post_id = world.post_ids[audience]
    who = world.viewer(viewer)
    mark = marker(audience)
    if surface == "can_see_post":
        return world.service(lambda conn: can_see_post(conn, who, post_id))
    if surface == "post_page":
        status, _ = world.get(viewer, f"/@ana/{post_id}")
        assert status in (200, 404), status
        return status == 200
    if surface == "api_status":
        if not world.api_status_works:
            pytest.skip("GET /api/v1/statuses/:id is not served yet (client API not landed)")
        status, body = world.get(viewer, f"/api/v1/statuses/{post_id}")
        assert status in (200, 404), (status, body)
        return status == 200
    if surface.startswith("api_") and not world.api_status_works:
        pytest.skip("the client API is not served yet")
    if surface == "api_context":
        status, body = world.get(viewer, f"/api/v1/statuses/{world.root_id}/context")
        assert status == 200, (status, body)
        return str(world.reply_ids[audience]) in [s["id"] for s in json.loads(body)["descendants"]]
    if surface == "api_search":
        status, body = world.get(viewer, f"/api/v2/search?type=statuses&q={mark}")
        if viewer == "anonymous" and status == 401:
            return False  # Mastodon answers anonymous status searches with 401
        assert status == 200, (status, body)
        return str(post_id) in [s["id"] for s in json.loads(body)["statuses"]]
    if surface in API_LISTS:
        status, body = world.get(
            viewer, API_LISTS[surface].format(author=world.actor_ids["author"])
        )
        if status == 401 and viewer == "anonymous":
            return False  # timelines that need a login
        assert status == 200, (surface, viewer, status, body)
        return str(post_id) in [s["id"] for s in json.loads(body)]
    if surface == "thread_replies":
        status, html = world.get(viewer, f"/@ana/{world.root_id}")
        assert status == 200
        return reply_marker(audience) in html
    if surface == "search":
        ids = world.service(
            lambda conn: timelines.search_posts(conn, who, mark, timelines.Page(limit=40))
        )
        return post_id in ids
    if surface == "profile_listing_sql":
        ids = world.service(
            lambda conn: timelines.profile(
                conn, who, world.actor_ids["author"], timelines.Page(limit=40)
            )
        )
        return post_id in ids
    if surface == "public_timeline":
        ids = world.service(lambda conn: timelines.public(conn, who, timelines.Page(limit=40)))
        return post_id in ids
    paths = {
        "profile_page": "/@ana",
        "home_feed": "/home",
        "tag_page": "/tags/vmtag",
        "community_page": "/c/vmc",
        "community_atom_feed": "/c/vmc/feed.atom",
        "profile_atom_feed": "/@ana/feed.atom",
    }
    status, text = world.get(viewer, paths[surface])
    if surface == "home_feed" and viewer == "anonymous":
        assert "/login" in text or status in (401, 403)  # sent to the login page
        return mark in text
    assert status == 200, (surface, viewer, status)
    return mark in text


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("audience", list(Audience), ids=lambda a: a.value)
@pytest.mark.parametrize("surface", list(EXPECTED))
def test_cell(world: World, surface: str, audience: Audience, viewer: str) -> None:
    expected = EXPECTED[surface](audience, viewer)
    got = observe(world, surface, audience, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the {audience.value} post on {surface}"
    )


def observe_item(world: World, surface: str, audience: Audience, viewer: str) -> bool:
    item_id = world.item_ids[audience]
    if surface == "can_see_item":
        who = world.viewer(viewer)
        return world.service(lambda conn: can_see_item(conn, who, item_id))
    if surface == "item_page":
        status, _ = world.get(viewer, f"/c/vmc/roadmap/{item_id}")
        assert status in (200, 404), status
        return status == 200
    status, html = world.get(viewer, "/c/vmc/roadmap")
    assert status == 200
    return f"vi{audience.value}q" in html


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("audience", ITEM_AUDIENCES, ids=lambda a: a.value)
@pytest.mark.parametrize("surface", list(ITEM_EXPECTED))
def test_item_cell(world: World, surface: str, audience: Audience, viewer: str) -> None:
    expected = ITEM_EXPECTED[surface](audience, viewer)
    got = observe_item(world, surface, audience, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the {audience.value} roadmap item on {surface}"
    )


def test_truth_table_is_not_trivial() -> None:
    """Guard against a table that lets everyone (or no one) see everything."""
    for audience, who in CAN_SEE.items():
        assert "author" in who, audience
    assert not any(
        "anonymous" in CAN_SEE[a]
        for a in (A.FOLLOWERS, A.COMMUNITY, A.MEMBERS, A.PARTNERS, A.DIRECT)
    )
    assert CAN_SEE[A.DIRECT] == {"author", "mentioned"}


def observe_idea(world: World, surface: str, audience: Audience, viewer: str) -> bool:
    idea_id = world.idea_ids[audience]
    if surface == "can_see_idea":
        who = world.viewer(viewer)
        return world.service(lambda conn: can_see_idea(conn, who, idea_id))
    if surface in ("idea_page", "api_idea"):
        path = (
            f"/c/vmc/ideas/{idea_id}"
            if surface == "idea_page"
            else f"/api/koers/v1/ideas/{idea_id}"
        )
        status, _ = world.get(viewer, path)
        assert status in (200, 404), status
        return status == 200
    status, html = world.get(viewer, "/c/vmc/ideas?status=all")
    assert status == 200
    return f"vd{audience.value}q" in html


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("audience", IDEA_AUDIENCES, ids=lambda a: a.value)
@pytest.mark.parametrize("surface", list(IDEA_EXPECTED))
def test_idea_cell(world: World, surface: str, audience: Audience, viewer: str) -> None:
    expected = IDEA_EXPECTED[surface](audience, viewer)
    got = observe_idea(world, surface, audience, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the {audience.value} idea on {surface}"
    )


# Community events (same audiences as roadmap items): the service check, the event page, the events
# page, the Koers API, and the iCalendar exports (the community calendar gives anonymous visitors
# public events only; one event's calendar follows its page).
EVENT_TIME = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)
EVENT_EXPECTED: dict[str, Callable[[Audience, str], bool]] = {
    "can_see_event": item_sees,
    "event_page": item_sees,
    "events_page": item_sees,
    "api_event": item_sees,
    "event_ics": item_sees,
    "community_ics": lambda a, v: item_sees(a, v) and (v != "anonymous" or a is A.PUBLIC),
}


def observe_event(world: World, surface: str, audience: Audience, viewer: str) -> bool:
    event_id = world.event_ids[audience]
    if surface == "can_see_event":
        who = world.viewer(viewer)
        return world.service(lambda conn: can_see_event(conn, who, event_id))
    single = {
        "event_page": f"/c/vmc/events/{event_id}",
        "event_ics": f"/c/vmc/events/{event_id}.ics",
        "api_event": f"/api/koers/v1/communities/{{cid}}/events/{event_id}",
    }
    if surface in single:
        cid = world.service(lambda conn: _community_id(conn))
        status, _ = world.get(viewer, single[surface].format(cid=cid))
        assert status in (200, 404), status
        return status == 200
    status, text = world.get(
        viewer, "/c/vmc/events" if surface == "events_page" else "/c/vmc/events.ics"
    )
    assert status == 200
    return f"ve{audience.value}q" in text


async def _community_id(conn: Any) -> int:
    import sqlalchemy as sa

    from server.storage import schema as t

    return int((await conn.execute(sa.select(t.events.c.community_id).limit(1))).scalar_one())


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("audience", ITEM_AUDIENCES, ids=lambda a: a.value)
@pytest.mark.parametrize("surface", list(EVENT_EXPECTED))
def test_event_cell(world: World, surface: str, audience: Audience, viewer: str) -> None:
    expected = EVENT_EXPECTED[surface](audience, viewer)
    got = observe_event(world, surface, audience, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the {audience.value} event on {surface}"
    )


# Purpose proposals are community posts: the proposal page, the purpose page's list and the Koers
# API show them to the community's members only (no mentions, so ``mia`` is just a local member).
PROPOSAL_EXPECTED: dict[str, Callable[[Audience, str], bool]] = {
    "proposal_page": item_sees,
    "purpose_page": item_sees,
    "api_proposal": item_sees,
    "api_proposals": item_sees,
    # The Group's process document (ActivityPub): an unsigned fetch is anonymous whoever sends it; a
    # member's signed fetch sees them (tests/federation/test_remote_purpose_e2e.py).
    "ap_process": lambda audience, viewer: False,
}


def observe_proposal(world: World, surface: str, viewer: str) -> bool:
    pid = world.proposal_id
    if surface in ("proposal_page", "api_proposal"):
        path = (
            f"/c/vmc/purpose/proposals/{pid}"
            if surface == "proposal_page"
            else f"/api/koers/v1/purpose/proposals/{pid}"
        )
        status, _ = world.get(viewer, path)
        assert status in (200, 404), status
        return status == 200
    if surface == "ap_process":
        status, body = world.get(viewer, "/communities/vmc/purpose/process")
        assert status == 200, status
        return "vpproposalq" in body
    if surface == "api_proposals":
        cid = world.service(lambda conn: _proposal_community(conn))
        status, body = world.get(viewer, f"/api/koers/v1/communities/{cid}/purpose/proposals")
    else:
        status, body = world.get(viewer, "/c/vmc/purpose")
    assert status == 200
    return "vpproposalq" in body or f"/purpose/proposals/{pid}" in body


async def _proposal_community(conn: Any) -> int:
    import sqlalchemy as sa

    from server.storage import schema as t

    return int(
        (await conn.execute(sa.select(t.purpose_proposals.c.community_id).limit(1))).scalar_one()
    )


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("surface", list(PROPOSAL_EXPECTED))
def test_proposal_cell(world: World, surface: str, viewer: str) -> None:
    expected = PROPOSAL_EXPECTED[surface](A.COMMUNITY, viewer)
    got = observe_proposal(world, surface, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the proposal on {surface}"
    )


# Initiatives (roadmap items with an informal lead): the community page's list and the Koers API list.
INITIATIVE_EXPECTED: dict[str, Callable[[Audience, str], bool]] = {
    "community_initiatives": item_sees,
    "api_initiatives": item_sees,
}


def observe_initiative(world: World, surface: str, audience: Audience, viewer: str) -> bool:
    if surface == "community_initiatives":
        status, text = world.get(viewer, "/c/vmc")
    else:
        cid = world.service(lambda conn: _community_id(conn))
        status, text = world.get(viewer, f"/api/koers/v1/communities/{cid}/initiatives")
    assert status == 200, status
    return f"vn{audience.value}q" in text


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("audience", ITEM_AUDIENCES, ids=lambda a: a.value)
@pytest.mark.parametrize("surface", list(INITIATIVE_EXPECTED))
def test_initiative_cell(world: World, surface: str, audience: Audience, viewer: str) -> None:
    expected = INITIATIVE_EXPECTED[surface](audience, viewer)
    got = observe_initiative(world, surface, audience, viewer)
    assert got == expected, (
        f"{viewer} {'should' if expected else 'should NOT'} get the {audience.value} initiative on {surface}"
    )
