"""``/api/v2/search``: accounts, statuses and hashtags; ``resolve=true`` asks federation for
remote ``@user@host`` handles and actor URLs."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server import urls
from server.api import params
from server.api.auth import authenticate
from server.api.common import ctx, json
from server.api.present import accounts_by_id, statuses_json
from server.context import Context
from server.errors import ValidationError
from server.services import timelines
from server.services.timelines import Page
from server.storage import schema as t
from server.visibility import can_see_post

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_QUERY = 500


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", r"\%").replace("_", r"\_")


async def find_accounts(
    conn: AsyncConnection,
    c: Context,
    q: str,
    *,
    limit: int = 40,
    offset: int = 0,
    following_of: int | None = None,
) -> list[int]:
    """Actor ids whose handle or name matches ``q`` (``user``, ``@user``, ``user@host``)."""
    text = q.strip().lstrip("@").lower()
    if not text:
        return []
    user, _, host = text.partition("@")
    a = t.actors
    cond = sa.or_(
        sa.func.lower(a.c.username).like(_like(user) + "%", escape="\\"),
        sa.func.lower(a.c.display_name).like("%" + _like(text) + "%", escape="\\"),
    )
    if host:
        local = host in (c.settings.domain.lower(), c.settings.hostname.lower())
        cond = sa.and_(
            sa.func.lower(a.c.username) == user,
            a.c.domain.is_(None) if local else a.c.domain == host,
        )
    query = sa.select(a.c.id).where(
        cond, a.c.suspended.is_(False), a.c.kind.in_(["person", "group", "organization"])
    )
    if following_of is not None:
        query = query.where(
            a.c.id.in_(
                sa.select(t.follows.c.target_id).where(t.follows.c.follower_id == following_of)
            )
        )
    exact = sa.case((sa.func.lower(a.c.username) == user, 0), else_=1)
    query = query.order_by(exact, a.c.domain.is_not(None), a.c.username).limit(limit).offset(offset)
    return [r[0] for r in await conn.execute(query)]


async def _resolve(request: web.Request, q: str) -> int | None:
    """A remote actor by handle or URL through federation, when that area is present."""
    try:
        from federation import actors as fed_actors
        from federation.errors import FederationError
    except ImportError:
        return None
    text = q.strip()
    try:
        if text.startswith(("http://", "https://")):
            return await fed_actors.resolve_actor(request.app, text)
        if text.lstrip("@").count("@") == 1:
            return await fed_actors.resolve_handle_to_actor(request.app, text)
    except FederationError as exc:
        log.info("search could not resolve %r: %s", text, exc)
    return None


async def _statuses_by_url(conn: AsyncConnection, viewer, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    p = t.posts
    rows = await conn.execute(sa.select(p.c.id).where(sa.or_(p.c.uri == q, p.c.url == q)).limit(1))
    return [r[0] for r in rows if await can_see_post(conn, viewer, r[0])]


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
        from server.activitypub.core.lookup import (
            lookup,
        )  # an actor or a post, fetched as the member asking

        found = await lookup(request.app, q, as_actor=auth.actor_id)
        resolved = found.id if found is not None and found.kind == "actor" else None
        resolved_post = found.id if found is not None and found.kind == "post" else None
    elif p.bool("resolve") and not auth.anonymous and kind in (None, "", "accounts"):
        resolved = await _resolve(request, q)
    out: dict[str, list] = {"accounts": [], "statuses": [], "hashtags": []}
    async with c.db.read() as conn:
        if kind in (None, "", "accounts"):
            ids = await find_accounts(
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
                ids = await _statuses_by_url(conn, auth.viewer, q)
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
                )
            out["statuses"] = await statuses_json(conn, c, auth.viewer, ids)
        if kind in (None, "", "hashtags") and q:
            name = q.lstrip("#").lower()
            rows = await conn.execute(
                sa.select(t.post_tags.c.tag)
                .distinct()
                .where(t.post_tags.c.tag.like(_like(name) + "%", escape="\\"))
                .order_by(t.post_tags.c.tag)
                .limit(limit)
                .offset(offset)
            )
            out["hashtags"] = [
                {"name": r[0], "url": urls.tag(c.base, r[0]), "history": [], "following": False}
                for r in rows
            ]
    return json(out)


@routes.get("/api/v1/tags/{name}")
async def get_tag(request: web.Request) -> web.Response:
    """A hashtag (Koers has no followed tags: ``following`` is always false)."""
    await authenticate(request, "read", required=False)
    name = request.match_info["name"].lstrip("#").lower()
    if not name or len(name) > 100:
        from server.errors import NotFound

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
