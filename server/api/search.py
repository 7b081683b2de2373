"""``/api/v2/search``: accounts, statuses and hashtags; ``resolve=true`` asks federation for
remote ``@user@host`` handles and actor URLs."""

from __future__ import annotations

import logging

from aiohttp import web

from federation import actors as fed_actors
from federation.errors import FederationError
from server import urls
from server.activitypub.core.lookup import lookup
from server.api import params
from server.api.auth import authenticate
from server.api.common import ctx, json
from server.api.present import accounts_by_id, statuses_json
from server.errors import NotFound, ValidationError
from server.services import search as finder
from server.services import timelines
from server.services.timelines import Page
from server.visibility import can_see_post

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_QUERY = 500


async def _resolve(request: web.Request, q: str) -> int | None:
    """A remote actor by handle or URL through federation."""
    text = q.strip()
    try:
        if text.startswith(("http://", "https://")):
            return await fed_actors.resolve_actor(request.app, text)
        if text.lstrip("@").count("@") == 1:
            return await fed_actors.resolve_handle_to_actor(request.app, text)
    except FederationError as exc:
        log.info("search could not resolve %r: %s", text, exc)
    return None


@routes.get("/api/v2/search")
@routes.get("/api/v1/search")
async def search(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:search", required=False)
    p = await params.read(request)
    c = ctx(request)
    q = (p.str("q") or "").strip()
    if len(q) > MAX_QUERY:
        raise ValidationError(f"q: at most {MAX_QUERY} characters", field="q")
    kind = p.str("type")
    if kind not in (None, "", "accounts", "statuses", "hashtags"):
        raise ValidationError("type: accounts, statuses or hashtags", field="type")
    limit = max(1, min(p.int("limit", 20) or 20, 40))
    offset = p.int("offset", 0, minimum=0) or 0
    resolved = resolved_post = None
    if p.bool("resolve") and not auth.anonymous and q.startswith(("http://", "https://")):
        found = await lookup(request.app, q, as_actor=auth.actor_id)
        resolved = found.id if found is not None and found.kind == "actor" else None
        resolved_post = found.id if found is not None and found.kind == "post" else None
    elif p.bool("resolve") and not auth.anonymous and kind in (None, "", "accounts"):
        resolved = await _resolve(request, q)
    out: dict[str, list] = {"accounts": [], "statuses": [], "hashtags": []}
    async with c.db.read() as conn:
        if kind in (None, "", "accounts"):
            ids = await finder.find_accounts(
                conn,
                c,
                q,
                limit=limit,
                offset=offset,
                following_of=auth.actor_id if p.bool("following") else None,
            )
            if resolved is not None and resolved not in ids:
                ids.insert(0, resolved)
            out["accounts"] = await accounts_by_id(conn, c, ids[:limit])
        if kind in (None, "", "statuses") and q:
            if q.startswith(("http://", "https://")):
                ids = await finder.statuses_by_url(conn, auth.viewer, q)
                if (
                    not ids
                    and resolved_post is not None
                    and await can_see_post(conn, auth.viewer, resolved_post)
                ):
                    ids = [resolved_post]
            elif auth.anonymous:
                ids = []  # as Mastodon: full-text search needs an account
            else:
                ids = await timelines.search_posts(
                    conn,
                    auth.viewer,
                    q,
                    Page(max_id=p.id("max_id"), min_id=p.id("min_id"), limit=limit),
                    offset=offset,
                )
            out["statuses"] = await statuses_json(conn, c, auth.viewer, ids)
        if kind in (None, "", "hashtags") and q:
            name = q.lstrip("#").lower()
            tags = await finder.find_tags(conn, name, limit=limit, offset=offset)
            out["hashtags"] = [
                {"name": tag, "url": urls.tag(c.base, tag), "history": [], "following": False}
                for tag in tags
            ]
    return json(out)


@routes.get("/api/v1/tags/{name}")
async def get_tag(request: web.Request) -> web.Response:
    """A hashtag (Koers has no followed tags: ``following`` is always false)."""
    await authenticate(request, "read", required=False)
    name = request.match_info["name"].lstrip("#").lower()
    if not name or len(name) > 100:
        raise NotFound("Record not found")
    return json(
        {
            "id": name,
            "name": name,
            "url": urls.tag(ctx(request).base, name),
            "history": [],
            "following": False,
        }
    )
