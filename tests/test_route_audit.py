"""Robustness and security audit of EVERY route, walked from the app's route table.

A real instance with the demo data (members, communities, posts, roadmap items, roles, events,
ideas, purpose decisions) answers, for each route: CSRF on web forms, authentication and scopes
on the API, no server error for hostile input, signed-only inboxes, and a page skeleton (one
``<h1>``, a ``<main>``) on HTML pages. Routes added later are covered without editing this file.
"""

from __future__ import annotations

import json
import re

import pytest
from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient

from server.demo import DEMO_PASSWORD, load_demo
from tests.api.conftest import api_token
from tests.conftest import Instance, csrf_from
from tests.route_walk import (
    Route,
    changed_rows,
    concrete,
    field_names,
    hostile_paths,
    real_values,
    routes,
    row_counts,
)

pytestmark = pytest.mark.slow

TIMEOUT = ClientTimeout(total=20)
# Write routes that need no token by design (registering a client is how one gets a token).
PUBLIC_API_WRITES = {"POST /api/v1/apps"}
# Write routes the Mastodon API documents with the `read` scope (they store nothing).
READ_SCOPE_WRITES = {"DELETE /api/v1/suggestions/{id}"}
# Routes that end the session of the auditing client: walked last.
SESSION_ENDERS = ("/logout",)


@pytest.fixture
def backend() -> str:
    """SQLite only: the audit is about handlers, not SQL dialects."""
    return "sqlite"


class World:
    """The audited instance with its demo data, a logged-in admin member and tokens."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.routes = routes(instance.app)
        self.fields = field_names()

    async def start(self) -> World:
        await load_demo(self.instance.settings, lambda _: None)
        self.real = await real_values(self.instance.db, "energy", "lotte")
        self.member = await self.instance.login("lotte", DEMO_PASSWORD)
        self.anonymous = await self.instance.new_client()
        self.token = await api_token(self.instance, "lotte", "read write follow", DEMO_PASSWORD)
        self.read_token = await api_token(self.instance, "lotte", "read", DEMO_PASSWORD)
        return self

    async def csrf(self) -> str:
        return csrf_from(await (await self.member.get("/settings")).text())

    def paths(self, route: Route) -> list[str]:
        return concrete(route, self.real)


@pytest.fixture
async def world(instance: Instance) -> World:
    return await World(instance).start()


async def _send(client: TestClient, method: str, path: str, **kw):  # type: ignore[no-untyped-def]
    resp = await client.request(method, path, allow_redirects=False, timeout=TIMEOUT, **kw)
    text = "" if resp.status < 500 else await resp.text()
    resp.close()
    return resp.status, text


def _order(rs: list[Route]) -> list[Route]:
    return sorted(
        rs,
        key=lambda r: (any(r.template.endswith(s) for s in SESSION_ENDERS), r.method == "DELETE"),
    )


def _is_html_write(r: Route) -> bool:
    return (
        r.is_write
        and not r.is_api
        and not r.is_inbox
        and not r.is_catch_all
        # authorised by what they carry, not by a session: OAuth clients, and the one-click
        # unsubscribe a mail client POSTs without cookies (RFC 8058; its signed link is the key)
        and r.template not in ("/oauth/token", "/oauth/revoke", "/mail/unsubscribe/{token}")
    )


async def test_web_forms_refuse_requests_without_a_valid_csrf_token(world: World) -> None:
    checked, failures = 0, []
    targets = [r for r in world.routes if _is_html_write(r)]
    assert len(targets) > 40, "the route table should be walked"
    for route in _order(targets):
        for path in world.paths(route):
            before = await row_counts(world.instance.db)
            fields = {name: "x" for name in world.fields}
            for extra in ({}, {"_csrf": "forged"}, {"_csrf": ""}):
                status, text = await _send(
                    world.member, route.method, path, data={**fields, **extra}
                )
                if status != 403:
                    failures.append(f"{route.method} {path} {sorted(extra)}: {status} {text[:200]}")
            if changed := changed_rows(before, await row_counts(world.instance.db)):
                failures.append(f"{route.method} {path}: rows changed without CSRF: {changed}")
            checked += 1
    assert not failures, "\n".join(failures)
    assert checked > 40


async def test_api_writes_need_a_token_with_the_write_scope(world: World) -> None:
    failures = []
    targets = [
        r
        for r in world.routes
        if r.is_api and r.is_write and not r.is_catch_all and str(r) not in PUBLIC_API_WRITES
    ]
    assert len(targets) > 60
    for route in targets:
        for path in world.paths(route):
            before = await row_counts(world.instance.db)
            status, text = await _send(world.anonymous, route.method, path, json={"status": "x"})
            if status != 401:
                failures.append(f"{route.method} {path} without token: {status} {text[:200]}")
            headers = {"Authorization": f"Bearer {world.read_token}"}
            status, text = await _send(
                world.anonymous, route.method, path, json={"status": "x"}, headers=headers
            )
            if status != 403 and str(route) not in READ_SCOPE_WRITES:
                failures.append(
                    f"{route.method} {path} with a read-only token: {status} {text[:200]}"
                )
            status, _ = await _send(
                world.anonymous, route.method, path, headers={"Authorization": "Bearer nope"}
            )
            if status != 401:
                failures.append(f"{route.method} {path} with a bogus token: {status}")
            if changed := changed_rows(before, await row_counts(world.instance.db)):
                failures.append(
                    f"{route.method} {path}: rows changed without a write token: {changed}"
                )
    assert not failures, "\n".join(failures)


def _bodies(fields: list[str]) -> list[tuple[str, dict]]:
    """Hostile bodies: empty, invalid JSON, every field of a wrong type, oversized."""
    huge = "x" * 100_000
    out: list[tuple[str, dict]] = [
        ("empty", {}),
        ("invalid json", {"data": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ]
    for label, value in [
        ("lists", [1, [2]]),
        ("objects", {"a": {"b": 1}}),
        ("numbers", 1e308),
        ("null", None),
        ("huge strings", huge),
        ("booleans", True),
        ("negative", -1),
    ]:
        out.append((f"json {label}", {"json": {name: value for name in fields}}))
    for label, value in [
        ("form text", "abc"),
        ("form huge", huge),
        ("form numbers", "99999999999999999999999"),
        ("form superscript", "²"),
        ("form empty", ""),
    ]:
        out.append((label, {"data": {name: value for name in fields}}))
    out.append(
        (
            "2 MB json",
            {"json": {name: "y" * 2_000_000 for name in fields[:1]} | {"status": "z" * 2_000_000}},
        )
    )
    out.append(("2 MB form", {"data": {"status": "z" * 2_000_000}}))
    return out


QUERIES = [
    {
        "max_id": "abc",
        "since_id": "abc",
        "min_id": "abc",
        "limit": "-5",
        "page": "x",
        "offset": "abc",
    },
    {"limit": "99999", "page": "-1", "max_id": "99999999999999999999999", "offset": "-3"},
    {"q": "x" * 5000, "limit": "0", "page": "99999999999", "type": "nope", "min_id": "%00"},
    {
        "max_id": "²",
        "since_id": "٣",
        "limit": "²",
        "page": "²",
        "offset": "99999999999999999999999",
    },
]


async def _fresh_csrf_body(world: World, kw: dict) -> dict:
    """Put a valid CSRF token into a form body so the hostile input reaches the handler."""
    if isinstance(kw.get("data"), dict):
        return {**kw, "data": {**kw["data"], "_csrf": await world.csrf()}}
    return kw


async def test_no_route_answers_5xx_to_hostile_input(world: World) -> None:
    failures: list[str] = []
    bodies = _bodies(world.fields)
    auth = {"Authorization": f"Bearer {world.token}"}
    query_sets = [
        *QUERIES,
        {name: "abc" for name in world.fields},
        {name: "²" for name in world.fields},
    ]
    for route in _order(world.routes):
        if route.is_streaming:
            continue
        client = world.member
        base: dict = {"headers": auth} if route.is_api else {}
        good = world.paths(route)
        for path in good + hostile_paths(route, world.real):
            if route.method == "GET":
                variants = [("plain", {})] + [
                    (f"query {i}", {"params": q}) for i, q in enumerate(query_sets)
                ]
            elif path in good:
                variants = bodies
            else:
                variants = [("empty", {})]
            for label, kw in variants:
                if route.is_write and not route.is_api:
                    kw = await _fresh_csrf_body(world, kw)
                headers = {**base.get("headers", {}), **kw.get("headers", {})}
                status, text = await _send(client, route.method, path, **{**kw, "headers": headers})
                if status >= 500:
                    failures.append(
                        f"{route.method} {path[:120]} [{label}]: {status} {' '.join(text.split())[:120]}"
                    )
            if route.method == "GET":  # and as a visitor, who takes other branches
                status, text = await _send(world.anonymous, "GET", path, params=QUERIES[0])
                if status >= 500:
                    failures.append(
                        f"anonymous GET {path[:120]}: {status} {' '.join(text.split())[:120]}"
                    )
            if route.template.endswith(SESSION_ENDERS):
                world.member = await world.instance.login("lotte", DEMO_PASSWORD)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)


async def test_inboxes_refuse_unsigned_and_non_json_posts(world: World) -> None:
    failures = []
    inboxes = [r for r in world.routes if r.is_inbox and r.method == "POST"]
    assert len(inboxes) >= 3
    base = world.instance.url
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{base}/nope/1",
        "type": "Follow",
        "actor": f"{base}/users/samir",
        "object": f"{base}/users/lotte",
    }
    for route in inboxes:
        for path in world.paths(route):
            before = await row_counts(world.instance.db)
            ap = {"Content-Type": "application/activity+json"}
            cases = [
                ("unsigned", {"data": json.dumps(activity), "headers": ap}, 401),
                ("text", {"data": "hello", "headers": {"Content-Type": "text/plain"}}, 400),
                ("invalid json", {"data": "{nope", "headers": ap}, 400),
                ("json list", {"data": "[1, 2]", "headers": ap}, 400),
                ("missing fields", {"data": json.dumps({"type": "Follow"}), "headers": ap}, 400),
                (
                    "wrong types",
                    {"data": json.dumps({**activity, "actor": [1], "id": {"a": 1}}), "headers": ap},
                    400,
                ),
            ]
            for label, kw, expected in cases:
                status, text = await _send(world.anonymous, "POST", path, **kw)
                if status != expected:
                    failures.append(
                        f"POST {path} [{label}]: {status} (expected {expected}) {text[:200]}"
                    )
            if before != await row_counts(world.instance.db):
                failures.append(f"POST {path}: rows changed by refused activities")
    assert not failures, "\n".join(failures)


_NOT_PAGES = re.compile(
    r"^/(api|\.well-known|nodeinfo|media|ns|static|oauth/token|actor$)|\.(atom|ics|json)$"
    r"|^/live/"  # the live pages' event streams and the card fragments they insert
)
_AP_TYPES = ("application/activity+json", "application/ld+json")
_ACTIVITYPUB = re.compile(r"^/(users|communities)/")


async def test_html_pages_have_one_h1_and_a_main(world: World) -> None:
    failures, seen = [], 0
    for who, client in (("anonymous", world.anonymous), ("member", world.member)):
        for route in world.routes:
            if route.method != "GET" or _NOT_PAGES.search(route.template) or route.is_streaming:
                continue
            for path in world.paths(route):
                resp = await client.get(
                    path, allow_redirects=False, headers={"Accept": "text/html"}, timeout=TIMEOUT
                )
                html = await resp.text()
                if resp.status >= 500:
                    failures.append(f"{who} GET {path}: {resp.status}")
                if resp.status != 200:
                    continue
                if not resp.content_type == "text/html":
                    if resp.content_type not in _AP_TYPES and not _ACTIVITYPUB.match(
                        route.template
                    ):
                        failures.append(f"{who} GET {path}: Content-Type {resp.content_type}")
                    continue
                seen += 1
                h1 = len(re.findall(r"<h1[\s>]", html))
                if h1 != 1 or not re.search(r"<main[\s>]", html):
                    failures.append(
                        f"{who} GET {path}: {h1} <h1>, <main> {'present' if '<main' in html else 'missing'}"
                    )
    assert seen > 30
    assert not failures, "\n".join(failures)
