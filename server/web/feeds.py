"""Atom 1.0 feeds: the instance's public results, a community's public posts and results, a
community's results, and a profile's public posts.

Feeds are read as the anonymous viewer through the timelines (``listed_for(ANONYMOUS)``), so only
public, listed posts ever appear. The XML is built with ElementTree, which escapes everything.
"""

from __future__ import annotations

import functools
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING

from aiohttp import web

from server import clock
from server.context import Context
from server.keys import CTX
from server.services import accounts, communities, timelines
from server.services.post_cache import load_posts
from server.services.text import html_to_text
from server.services.views import PostView
from server.visibility import ANONYMOUS

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

routes = web.RouteTableDef()

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
FEED_SIZE = 30


@functools.cache
def _etree() -> ModuleType:
    """ElementTree, imported with the first feed (0.5 MiB a process that serves none never holds),
    Atom as its default namespace."""
    import xml.etree.ElementTree

    xml.etree.ElementTree.register_namespace("", ATOM_NS)
    return xml.etree.ElementTree


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node: ET.Element = _etree().SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _title_of(post: PostView) -> str:
    if post.title:
        return post.title
    words = html_to_text(post.content_html).replace("\n", " ").strip()
    if post.spoiler_text:
        words = post.spoiler_text
    if not words:
        return f"{'Result' if post.kind == 'result' else 'Post'} by {post.author.name}"
    return words if len(words) <= 80 else words[:79].rstrip() + "…"


def _content_of(post: PostView) -> str:
    body = post.content_html
    if post.spoiler_text:
        body = f"<p><strong>Content warning:</strong> {_escape(post.spoiler_text)}</p>{body}"
    if post.roles:
        body += "<p>Delivered by: " + ", ".join(_escape(name) for _, name in post.roles) + "</p>"
    return body


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def atom_feed(
    *, feed_url: str, page_url: str, title: str, subtitle: str, posts: list[PostView]
) -> bytes:
    """An Atom 1.0 document for these posts (newest first)."""
    feed: ET.Element = _etree().Element(f"{{{ATOM_NS}}}feed")
    _el(feed, "id", feed_url)
    _el(feed, "title", title)
    if subtitle:
        _el(feed, "subtitle", subtitle)
    stamps: list[datetime] = [p.edited_at or p.created_at for p in posts]
    _el(feed, "updated", clock.iso(max(stamps) if stamps else clock.now()))
    _el(feed, "link", rel="self", type=ATOM_TYPE, href=feed_url)
    _el(feed, "link", rel="alternate", type="text/html", href=page_url)
    _el(feed, "generator", "Koers")
    for post in posts:
        entry = _el(feed, "entry")
        _el(entry, "id", post.uri)
        _el(entry, "title", _title_of(post))
        _el(entry, "updated", clock.iso(post.edited_at or post.created_at))
        _el(entry, "published", clock.iso(post.created_at))
        author = _el(entry, "author")
        _el(author, "name", post.author.name)
        _el(author, "uri", post.author.url or post.author.uri)
        _el(entry, "link", rel="alternate", type="text/html", href=post.url)
        for tag in post.tags:
            _el(entry, "category", term=tag)
        if post.kind == "result":
            _el(entry, "category", term="result", label="Result")
        _el(entry, "content", _content_of(post), type="html")
    return bytes(_etree().tostring(feed, encoding="utf-8", xml_declaration=True))


def _response(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=ATOM_TYPE, charset="utf-8")


async def _posts(ctx: Context, ids: list[int]) -> list[PostView]:
    async with ctx.db.read() as conn:
        return await load_posts(
            conn, ANONYMOUS, ids, base=ctx.base, local_domain=ctx.settings.domain
        )


@routes.get("/feeds/results.atom")
async def instance_results(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        ids = await timelines.results(conn, ANONYMOUS, timelines.Page(limit=FEED_SIZE))
    return _response(
        atom_feed(
            feed_url=f"{ctx.base}/feeds/results.atom",
            page_url=f"{ctx.base}/",
            title=f"Results · {ctx.settings.instance_name}",
            subtitle="What the communities of this organisation achieved",
            posts=await _posts(ctx, ids),
        )
    )


@routes.get("/c/{handle}/{kind:feed|results}.atom")
async def community_feed(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    only_results = request.match_info["kind"] == "results"
    async with ctx.db.read() as conn:
        community = await communities.get_by_handle(conn, request.match_info["handle"])
        ids = await timelines.community(
            conn,
            ANONYMOUS,
            community.id,
            timelines.Page(limit=FEED_SIZE),
            only_results=only_results,
        )
    name = f"{'Results' if only_results else 'Posts and results'} · {community.name}"
    return _response(
        atom_feed(
            feed_url=f"{ctx.base}/c/{community.handle}/{request.match_info['kind']}.atom",
            page_url=community.url,
            title=name,
            subtitle=html_to_text(community.description_html)[:300],
            posts=await _posts(ctx, ids),
        )
    )


@routes.get(r"/@{username:[A-Za-z0-9_]+}/feed.atom")
async def profile_feed(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        actor = await accounts.get_local_actor(conn, request.match_info["username"])
        ids = await timelines.profile(
            conn, ANONYMOUS, actor.id, timelines.Page(limit=FEED_SIZE), exclude_reblogs=True
        )
    return _response(
        atom_feed(
            feed_url=f"{ctx.base}/@{actor.username}/feed.atom",
            page_url=actor.url or actor.uri,
            title=f"{actor.display_name or actor.username} (@{actor.username}@{ctx.settings.domain})",
            subtitle=html_to_text(actor.summary_html or "")[:300],
            posts=await _posts(ctx, ids),
        )
    )
