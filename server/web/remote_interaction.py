"""Remote follow from the web, both ways.

- ``/remote-follow``: a visitor enters their fediverse handle on a profile or community page and is
  sent to their own server's ``authorize_interaction`` URL (``federation.interaction``).
- ``/authorize_interaction?uri=``: what WebFinger advertises for our members; a logged-in member
  sees the account or post (looked up through federation) with a follow button or a reply link.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from federation.interaction import subscribe_url
from federation.state import FETCHER
from server.activitypub.core.lookup import lookup, parse_handle
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.http.params import as_id
from server.i18n.messages import Message
from server.keys import CTX
from server.services import follows
from server.services.remote_communities import page_path
from server.services.views import load_actors, load_posts
from server.visibility import can_see_post

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_INPUT = 2048


def _ours(request: web.Request, uri: str) -> bool:
    base = urlsplit(request.app[CTX].settings.url)
    target = urlsplit(uri)
    return (target.scheme, target.netloc) == (base.scheme, base.netloc)


async def _remote_follow_form(
    request: web.Request, uri: str, *, handle: str = "", error: str | None = None, status: int = 200
) -> web.Response:
    return await render(
        request,
        "remote_follow.html",
        uri=uri,
        values={"handle": handle},
        errors={"handle": error} if error else {},
        status=status,
    )


@routes.get("/remote-follow")
async def remote_follow_page(request: web.Request) -> web.Response:
    """The handle form on its own page (the profile and community pages embed the same form)."""
    uri = request.query.get("uri", "")
    if not _ours(request, uri):
        return await render(
            request,
            "error.html",
            title="Nothing to follow",
            message="This link does not name an account or community of this server.",
            status=400,
        )
    return await _remote_follow_form(request, uri)


@routes.post("/remote-follow")
async def remote_follow_submit(request: web.Request) -> web.Response:
    """Send the visitor to their own server, which asks them to confirm the follow."""
    data = await form(request)
    uri = str(data.get("uri", ""))[:MAX_INPUT]
    handle = str(data.get("handle", "")).strip()[:MAX_INPUT]
    if not _ours(request, uri):
        return await render(
            request,
            "error.html",
            title="Nothing to follow",
            message="This form does not name an account or community of this server.",
            status=400,
        )
    parsed = parse_handle(handle)
    if parsed is None:
        return await _remote_follow_form(
            request,
            uri,
            handle=handle,
            status=400,
            error="Enter your fediverse address as @name@server.example",
        )
    user, host = parsed
    if host == request.app[CTX].settings.domain.lower():
        return await _remote_follow_form(
            request,
            uri,
            handle=handle,
            status=400,
            error="That is an account on this server: log in and follow from here.",
        )
    raise redirect(await subscribe_url(request.app[FETCHER], user, host, uri))


async def _actor_page(request: web.Request, uri: str, actor_id: int, me: int) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        actor = (await load_actors(conn, {actor_id}, ctx.base, ctx.settings.domain))[actor_id]
        relation = await follows.relationship(conn, me, actor_id)
    if actor.kind == "group":  # a community, here or on another instance: its page here
        raise redirect(page_path(actor.username, actor.domain))
    if actor.local:
        raise redirect(f"/@{actor.username}")
    return await render(
        request,
        "authorize_interaction.html",
        uri=uri,
        actor=actor,
        relation=relation,
        is_me=actor_id == me,
        post=None,
    )


async def _post_page(request: web.Request, uri: str, post_id: int) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        if not await can_see_post(conn, who, post_id):
            return await _not_found(request, uri)
        found = await load_posts(
            conn, who, [post_id], base=ctx.base, local_domain=ctx.settings.domain
        )
    if not found:
        return await _not_found(request, uri)
    return await render(
        request, "authorize_interaction.html", uri=uri, actor=None, post=found[0], relation=None
    )


async def _not_found(request: web.Request, uri: str) -> web.Response:
    return await render(
        request,
        "error.html",
        title="Not found",
        message=Message("Nothing could be found at %(uri)s (or you may not see it).", uri=uri),
        status=404,
    )


@routes.get("/authorize_interaction")
async def authorize_interaction(request: web.Request) -> web.Response:
    """A remote account or post, for a member to follow or answer (anonymous visitors log in first)."""
    user = await require_user(request)
    uri = request.query.get("uri", "").strip()
    if (
        not uri
        or len(uri) > MAX_INPUT
        or (parse_handle(uri) is None and urlsplit(uri).scheme not in ("http", "https"))
    ):
        return await render(
            request,
            "error.html",
            title="Nothing to show",
            message="The link should name an account (@name@server) or an http(s) address.",
            status=400,
        )
    found = await lookup(request.app, uri, as_actor=user.id)
    if found is None:
        return await _not_found(request, uri)
    if found.kind == "post":
        return await _post_page(request, uri, found.id)
    return await _actor_page(request, uri, found.id, user.id)


@routes.post("/authorize_interaction")
async def authorize_interaction_follow(request: web.Request) -> web.Response:
    """Follow the account (or join the community) shown on the page."""
    user = await require_user(request)
    data: Any = await form(request)
    uri = str(data.get("uri", ""))[:MAX_INPUT]
    raw = str(data.get("actor_id", ""))
    if as_id(raw) is None:
        return await render(
            request,
            "error.html",
            title="Nothing to follow",
            message="No account was chosen.",
            status=400,
        )
    state = await follows.follow(request.app[CTX], user.id, int(raw))
    flash(request, "Follow request sent." if state == "pending" else "You now follow this account.")
    raise redirect(f"/authorize_interaction?uri={quote(uri, safe='')}")
