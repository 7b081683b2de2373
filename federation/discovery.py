"""Discovery: WebFinger (server and client), host-meta and NodeInfo 2.0 / 2.1."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from aiohttp import web

from federation import hosts
from federation.errors import FetchError
from federation.fetch import Fetcher
from federation.state import FETCHER
from server import __version__, clock
from server.keys import CTX
from server.storage import schema as t

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

JRD = "application/jrd+json"
AP = "application/activity+json"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{v}"
ACCT_RE = re.compile(r"^acct:@?([^@\s/]+)@([^@\s/]+)$", re.IGNORECASE)
KIND_PATHS = (("person", ("/users/", "/@")), ("group", ("/communities/", "/c/")))


def _resource_to_name(resource: str, base: str, domain: str) -> tuple[str, str | None]:
    """(username, kind or None) named by an ``acct:`` or actor-URL resource of this instance."""
    if m := ACCT_RE.match(resource):
        if m.group(2).lower() != domain.lower():
            raise web.HTTPNotFound(text="not a resource of this instance")
        return m.group(1).lower(), None
    if resource.startswith(base + "/"):
        path = resource[len(base) :]
        if path in ("/actor", "/"):
            return "org", "organization"
        for kind, prefixes in KIND_PATHS:
            for prefix in prefixes:
                name = path[len(prefix) :]
                if path.startswith(prefix) and name and "/" not in name:
                    return name.lower(), kind
        raise web.HTTPNotFound(text="not an actor of this instance")
    raise web.HTTPBadRequest(text="resource must be acct:user@host or an actor URL")


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    """WebFinger for members, communities and the organisation (``acct:org@host``)."""
    ctx = request.app[CTX]
    resource = request.query.get("resource", "").strip()
    if not resource:
        raise web.HTTPBadRequest(text="resource is required")
    name, kind = _resource_to_name(resource, ctx.settings.url, ctx.settings.domain)
    q = sa.select(t.actors).where(
        t.actors.c.username == name, t.actors.c.domain.is_(None), t.actors.c.suspended.is_(False)
    )
    if kind:
        q = q.where(t.actors.c.kind == kind)
    async with ctx.db.read() as conn:
        actor = (await conn.execute(q)).first()
    if actor is None:
        raise web.HTTPNotFound(text="no such account")
    links: list[dict[str, Any]] = [
        {
            "rel": "http://webfinger.net/rel/profile-page",
            "type": "text/html",
            "href": actor.url or actor.uri,
        },
        {"rel": "self", "type": AP, "href": actor.uri},
        {
            "rel": "http://ostatus.org/schema/1.0/subscribe",
            "template": f"{ctx.settings.url}/authorize_interaction?uri={{uri}}",
        },
    ]
    if actor.avatar_path:
        links.append(
            {
                "rel": "http://webfinger.net/rel/avatar",
                "href": f"{ctx.settings.url}/media/{actor.avatar_path}",
            }
        )
    body = {
        "subject": f"acct:{actor.username}@{ctx.settings.domain}",
        "aliases": [actor.uri, actor.url or actor.uri],
        "links": links,
    }
    return web.json_response(body, content_type=JRD, headers={"Access-Control-Allow-Origin": "*"})


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    """The XRD pointing WebFinger clients at our template."""
    base = request.app[CTX].settings.url
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n'
        "</XRD>\n"
    )
    return web.Response(text=xml, content_type="application/xrd+xml")


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    """The NodeInfo discovery document."""
    base = request.app[CTX].settings.url
    links = [
        {"rel": NODEINFO_SCHEMA.format(v=v), "href": f"{base}/nodeinfo/{v}"} for v in ("2.0", "2.1")
    ]
    return web.json_response({"links": links})


async def usage(conn: Any) -> dict[str, Any]:
    """Users total / active month / active half-year and local posts, for NodeInfo."""
    now = clock.now()
    active = t.users.c.state == "active"

    async def count(q: Any) -> int:
        return int((await conn.execute(q)).scalar() or 0)

    total = await count(sa.select(sa.func.count()).select_from(t.users).where(active))
    month = await count(
        sa.select(sa.func.count())
        .select_from(t.users)
        .where(active, t.users.c.last_login_at >= now - timedelta(days=30))
    )
    halfyear = await count(
        sa.select(sa.func.count())
        .select_from(t.users)
        .where(active, t.users.c.last_login_at >= now - timedelta(days=180))
    )
    posts = await count(
        sa.select(sa.func.count())
        .select_from(t.posts)
        .where(
            t.posts.c.local.is_(True),
            t.posts.c.deleted_at.is_(None),
            t.posts.c.reblog_of_id.is_(None),
        )
    )
    return {
        "users": {"total": total, "activeMonth": month, "activeHalfyear": halfyear},
        "localPosts": posts,
    }


@routes.get(r"/nodeinfo/{version:2\.[01]}")
async def nodeinfo(request: web.Request) -> web.Response:
    """NodeInfo 2.0 or 2.1: software ``koers``, protocols, registrations and usage."""
    ctx = request.app[CTX]
    version = request.match_info["version"]
    async with ctx.db.read() as conn:
        counts = await usage(conn)
    software: dict[str, Any] = {"name": "koers", "version": __version__}
    if version == "2.1":
        software["repository"] = "https://github.com/koers-social/koers"
    body = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": ctx.settings.registrations in ("open", "approval"),
        "usage": counts,
        "metadata": {
            "nodeName": ctx.settings.instance_name,
            "federationMode": ctx.settings.federation_mode,
        },
    }
    ctype = f'application/json; profile="{NODEINFO_SCHEMA.format(v=version)}#"'
    return web.Response(text=json.dumps(body), headers={"Content-Type": ctype})


async def resolve_handle(fetcher: Fetcher, user: str, host: str) -> str:
    """The actor URI of ``user@host``, asked of the host's WebFinger (https, then http on loopback)."""
    resource = quote(f"acct:{user}@{host}", safe=":@")
    last: FetchError | None = None
    for scheme in _schemes(fetcher):
        try:
            doc = await fetcher.fetch_json(
                f"{scheme}://{host}/.well-known/webfinger?resource={resource}",
                accept=f"{JRD}, application/json",
            )
        except FetchError as exc:
            last = exc
            continue
        for link in doc.get("links") or []:
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and isinstance(link.get("href"), str)
                and (link.get("type") or "").split(";")[0] in (AP, "application/ld+json")
            ):
                href = link["href"]
                if urlsplit(href).scheme in ("http", "https"):
                    return href
        raise FetchError("webfinger", f"{user}@{host} has no ActivityPub actor")
    raise last or FetchError("webfinger", f"cannot resolve {user}@{host}")


def _schemes(fetcher: Fetcher) -> tuple[str, ...]:
    return ("https", "http") if fetcher.settings.allow_private_addresses else ("https",)


async def host_software(fetcher: Fetcher, host: str) -> str:
    """The NodeInfo ``software.name`` of ``host`` (lower case); '' when it publishes none."""
    for scheme in _schemes(fetcher):
        try:
            links = await fetcher.fetch_json(
                f"{scheme}://{host}/.well-known/nodeinfo", accept="application/json"
            )
        except FetchError:
            continue
        hrefs = sorted(
            (str(link.get("rel")), link["href"])
            for link in links.get("links") or []
            if isinstance(link, dict)
            and isinstance(link.get("href"), str)
            and str(link.get("rel", "")).startswith(NODEINFO_SCHEMA.format(v="2."))
        )
        for _rel, href in reversed(hrefs):  # the newest schema first
            try:
                doc = await fetcher.fetch_json(href, accept="application/json")
            except FetchError as exc:
                log.info("NodeInfo of %s: %s", host, exc)
                continue
            software = doc.get("software")
            name = software.get("name") if isinstance(software, dict) else None
            if isinstance(name, str):
                return name.strip().lower()
        return ""
    return ""


async def remember_software(
    app: web.Application, host: str, *, retry_unknown: bool = False
) -> None:
    """Ask ``host`` for its NodeInfo once (the first time one of its actors is stored), so the
    semantics side can address it in the dialect it understands (``hosts.software``).

    ``retry_unknown`` asks again a host that published none last time (a stale actor's refetch
    passes it, so a NodeInfo that failed once is tried again a day later, not never)."""
    db = app[CTX].db
    async with db.read() as conn:
        known = await hosts.states(conn, [host])
    software = known[host].software if host in known else None
    if software or (software == "" and not retry_unknown):
        return
    software = await host_software(app[FETCHER], host)
    async with db.write() as conn:
        await hosts.set_software(conn, host, software)
