"""Walk an app's route table: concrete paths (real and hostile values), field names, row counts.

Used by tests/test_route_audit.py so that the audit covers every route, including routes added
after the audit was written: nothing here names a route, it is all derived from the router, the
database and the handler sources.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from aiohttp import web

from server.storage import schema as t
from server.storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BOGUS = [
    "999999",
    "nope",
    quote("../etc/passwd", safe=""),
    "x" * 5000,
    "%00",
    "-1",
    "0",
    "99999999999999999999999",
    quote("²", safe=""),
]


@dataclass(frozen=True)
class Route:
    """One method + path template, with the regex alternatives of its enum-like parameters."""

    method: str
    template: str
    params: tuple[str, ...]
    choices: tuple[tuple[str, tuple[str, ...]], ...]

    def __str__(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")

    @property
    def is_live(self) -> bool:
        """An event stream of the web pages' live updates (``text/event-stream`` to a signed-in
        member), never an ActivityStreams document."""
        return self.template.startswith("/live/")

    @property
    def is_inbox(self) -> bool:
        return self.template.endswith("/inbox")

    @property
    def is_catch_all(self) -> bool:
        """A ``/prefix/{tail}`` route that answers 404 for anything not routed more precisely."""
        return self.template.endswith("/{tail}")

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def is_streaming(self) -> bool:
        return self.template.startswith("/api/v1/streaming") and not self.template.endswith(
            "/health"
        )


def routes(app: web.Application) -> list[Route]:
    """Every (method, template) of the app; ``*`` routes become GET and POST; HEAD and static skipped."""
    found: set[Route] = set()
    for r in app.router.routes():
        info = r.resource.get_info() if r.resource is not None else {}
        template = info.get("formatter") or info.get("path")
        if template is None or r.method == "HEAD":
            continue
        params = tuple(re.findall(r"\{(\w+)\}", template))
        choices = []
        pattern = info.get("pattern")
        if pattern is not None:
            for name, alts in re.findall(r"\(\?P<(\w+)>([\w|.\-]+)\)", pattern.pattern):
                if "|" in alts or re.fullmatch(r"[\w\-]+", alts):
                    choices.append((name, tuple(alts.split("|"))))
        for method in ("GET", "POST") if r.method == "*" else (r.method,):
            found.add(Route(method, template, params, tuple(choices)))
    return sorted(found, key=lambda r: (r.template, r.method))


# The table a path segment followed by {id} names, for picking a real id.
_ID_TABLES: dict[str, Any] = {
    "accounts": t.actors,
    "statuses": t.posts,
    "polls": t.polls,
    "lists": t.lists,
    "list": t.lists,
    "notifications": t.notifications,
    "media": t.media,
    "follow_requests": t.actors,
    "suggestions": t.actors,
    "communities": t.communities,
    "proposals": t.purpose_proposals,
    "decisions": t.purpose_decisions,
    "roles": t.roles,
    "results": t.posts,
    "ideas": t.ideas,
}
_NAMED_TABLES: dict[str, Any] = {
    "item_id": t.roadmap_items,
    "role_id": t.roles,
    "event_id": t.events,
    "idea_id": t.ideas,
    "proposal_id": t.purpose_proposals,
    "decision_id": t.purpose_decisions,
    "post_id": t.posts,
    "user_id": t.users,
    "actor_id": t.actors,
}
_FIXED = {
    "handle": "energy",
    "username": "lotte",
    "version": "1",
    "kind": "results",
    "tail": "nope",
    "path": "nope.png",
    "tag": "energy",
    "name": "energy",
    "what": "manager",
    "action": "support",
    "decision": "accept",
}


async def real_values(db: Database, community_handle: str, username: str) -> dict[str, Any]:
    """Real ids from the data: the first row of each table (in the community when it has one)."""
    values: dict[str, Any] = {}
    async with db.read() as conn:
        cid = (
            await conn.execute(
                sa.select(t.communities.c.id).where(
                    t.communities.c.actor_id
                    == sa.select(t.actors.c.id)
                    .where(t.actors.c.username == community_handle, t.actors.c.domain.is_(None))
                    .scalar_subquery()
                )
            )
        ).scalar()
        aid = (
            await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.username == username,
                    t.actors.c.domain.is_(None),
                    t.actors.c.kind == "person",
                )
            )
        ).scalar()
        assert cid is not None and aid is not None, (
            "the demo data should have the community and the member"
        )
        tables = {id(tb): tb for tb in [*_ID_TABLES.values(), *_NAMED_TABLES.values()]}
        for tb in tables.values():
            q = sa.select(tb.c.id).order_by(tb.c.id).limit(1)
            if tb is t.communities:
                q = q.where(tb.c.id == cid)
            elif tb is t.actors:
                q = q.where(tb.c.id == aid)
            elif tb is t.posts:
                q = q.where(tb.c.author_id == aid, tb.c.audience == "public")
            elif "community_id" in tb.c:
                q = q.where(tb.c.community_id == cid)
            values[tb.name] = (await conn.execute(q)).scalar() or 1
    return values


def concrete(
    route: Route, real: dict[str, Any], override: dict[str, str] | None = None
) -> list[str]:
    """The route's paths with plausible values (every alternative of enum parameters), or overrides."""
    choices = dict(route.choices)
    options: list[list[str]] = []
    segments = route.template.split("/")
    for name in route.params:
        if override and name in override:
            options.append([override[name]])
        elif name in choices:
            options.append(list(choices[name]))
        elif name in _NAMED_TABLES:
            options.append([str(real[_NAMED_TABLES[name].name])])
        elif name == "id":
            before = segments[segments.index("{id}") - 1]
            table = _ID_TABLES.get(before)
            options.append([str(real[table.name]) if table is not None else "1"])
        else:
            options.append([_FIXED.get(name, "nope")])
    paths = []
    for combo in itertools.product(*options):
        path = route.template
        for name, value in zip(route.params, combo, strict=False):
            path = path.replace("{" + name + "}", value, 1)
        paths.append(path)
    return paths


def hostile_paths(route: Route, real: dict[str, Any]) -> list[str]:
    """Each bogus value in every parameter at once, and (for several parameters) in each alone."""
    if not route.params:
        return []
    # several 5000-character values at once would only meet the HTTP parser's line limit
    out = {
        concrete(
            route,
            real,
            {
                p: bogus if len(bogus) < 100 or i == 0 else "nope"
                for i, p in enumerate(route.params)
            },
        )[0]
        for bogus in BOGUS
    }
    if len(route.params) > 1:
        for p in route.params:
            out.add(concrete(route, real, {p: "999999"})[0])
            out.add(concrete(route, real, {p: "99999999999999999999999"})[0])
    return sorted(out)


def field_names() -> list[str]:
    """Every field name a handler reads from a form, JSON body or query (grepped from the sources)."""
    names: set[str] = set()
    patterns = [
        # data.get("name"), body["name"], query.getall("name")
        r"(?:data|body|form|payload|params|query|post|fields|json)\s*(?:\.get\(|\.getall\(|\.getone\(|\[)",
        r"\b(?:p|params|q)\.\w+\(",  # the API's parameter readers: p.str("name"), p.id("name")
        r"\((?:body|data)\s*,",  # text(body, "name", ...), choice(body, "name", ...)
    ]
    pattern = re.compile(rf"""(?:{"|".join(patterns)})\s*["']([a-z_\[\]]{{1,40}})["']""")
    for folder in ("server/web", "server/api", "federation"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text(encoding="utf-8")))
    names.discard("_csrf")
    return sorted(names)


async def row_counts(db: Database) -> dict[str, int]:
    """The number of rows of every table."""
    async with db.read() as conn:
        return {
            tb.name: (await conn.execute(sa.select(sa.func.count()).select_from(tb))).scalar_one()
            for tb in t.metadata.sorted_tables
        }


def changed_rows(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The tables whose row count differs: name -> (before, after)."""
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}
