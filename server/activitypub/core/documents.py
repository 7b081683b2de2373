"""Dereferenceable ids: posts, their Create, and paged collections, for those allowed to see them.

The requester is the signed-fetch actor (``federation.documents.signed_viewer``) or anonymous;
every listing goes through the visibility module. HTML clients are redirected to the web page.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from sqlalchemy import Row

from federation import policy
from federation.documents import activity_json, ap_viewer, wants_activitypub
from server.activitypub.communities.membership import member_of_remote_community
from server.activitypub.core import convert
from server.activitypub.core.collections import (
    PAGE_SIZE,
    ordered_collection,
    page_number,
    page_offset,
    paged_collection,
)
from server.activitypub.core.vocab import context
from server.activitypub.posts.objects import load_post
from server.http.params import as_id
from server.keys import CTX
from server.services import actor_collections, actors
from server.visibility import (
    ANONYMOUS,
    Viewer,
    can_see_members,
    can_see_post,
)

routes = web.RouteTableDef()


async def viewer_of(request: web.Request) -> Viewer:
    """The visibility viewer of an ActivityPub GET: the signer, or anonymous.

    A signer on a host we do not federate with (suspended, or outside the allowlist) sees no more
    than anyone: its follows and memberships may outlive the block, its reading of them does not.
    In secure mode it is refused outright, as an unsigned request would be.
    """
    signed = await ap_viewer(request)
    if signed is None:
        return ANONYMOUS
    actor_id, domain = signed
    ctx = request.app[CTX]
    local = domain == ctx.settings.domain
    if not local:
        async with ctx.db.read() as conn:
            refused = await policy.is_refused(conn, ctx.settings, domain)
        if refused and ctx.settings.secure_mode:
            raise web.HTTPUnauthorized(text="signature refused: host not federated with")
        if refused:
            return ANONYMOUS
    return Viewer(actor_id=actor_id, local=local, domain=None if local else domain)


async def _author(conn: Any, username: str, kind: str = "person") -> Row:
    row = await actors.local_actor(conn, username, kind)
    if row is None or row.suspended:
        raise web.HTTPNotFound()
    return row


async def parts_for(conn: Any, ctx: Any, viewer: Viewer, post_id: int) -> convert.PostParts:
    """A post's parts as ``viewer`` may see them: its replies count only counts the replies they may see
    (the stored count includes followers-only and direct replies, whose existence is not theirs to know)."""
    parts = await load_post(conn, ctx.base, ctx.settings.domain, post_id)
    return replace(parts, replies_count=await actor_collections.replies_seen(conn, viewer, post_id))


async def _visible_post(request: web.Request) -> tuple[Row, Any] | web.Response:
    ctx = request.app[CTX]
    viewer = await viewer_of(request)
    post_id = as_id(request.match_info["post_id"]) or -1
    async with ctx.db.read() as conn:
        author = await _author(conn, request.match_info["username"])
        post = await actor_collections.post_by(conn, author.id, post_id)
        if post is None or post.audience == "members":
            raise web.HTTPNotFound()
        if post.deleted_at is not None:
            return activity_json(
                {
                    "@context": context(ctx.base),
                    **convert.tombstone(post.uri, deleted=post.deleted_at),
                },
                status=410,
            )
        visible = await can_see_post(conn, viewer, post.id)
    # A member of a remote community (signing from its own instance) is checked with the Group.
    if not visible and not await member_of_remote_community(request.app, post, viewer):
        raise web.HTTPNotFound()
    async with ctx.db.read() as conn:
        parts = await parts_for(conn, ctx, viewer, post.id)
    return post, parts


@routes.get(r"/users/{username}/posts/{post_id}")
async def post_document(request: web.Request) -> web.Response:
    """A post as Note/Article/Question; 410 Tombstone when deleted; HTML → the post page."""
    if not wants_activitypub(request):
        raise web.HTTPFound(f"/@{request.match_info['username']}/{request.match_info['post_id']}")
    found = await _visible_post(request)
    if isinstance(found, web.Response):
        return found
    _post, parts = found
    return activity_json(convert.to_object(parts, request.app[CTX].base))


@routes.get(r"/users/{username}/posts/{post_id}/activity")
async def post_activity(request: web.Request) -> web.Response:
    """The Create of a post (or the Announce of a boost)."""
    found = await _visible_post(request)
    if isinstance(found, web.Response):
        return found
    post, parts = found
    base = request.app[CTX].base
    doc = convert.wrap_post(
        base, "Create", convert.to_object(parts, base), activity_id=f"{post.uri}/activity"
    )
    return activity_json(doc)


def _offset(page: int | None) -> int | None:
    return None if page is None else page_offset(page)


async def _followers(request: web.Request, kind: str, name: str) -> web.Response:
    ctx = request.app[CTX]
    viewer = await viewer_of(request)  # in secure mode a 401 unsigned, page or not
    page = page_number(request)
    async with ctx.db.read() as conn:
        actor = await _author(conn, name, kind)
        if kind == "group":
            community_id = await actor_collections.community_of_group(conn, actor.id)
            if community_id is None or not await can_see_members(conn, viewer, community_id):
                raise web.HTTPNotFound()
    async with ctx.db.read() as conn:
        total, items = await actor_collections.followers(conn, actor.id, _offset(page), PAGE_SIZE)
    return activity_json(paged_collection(ctx.base, actor.followers_url, total, page, items))


@routes.get("/users/{username}/followers")
async def person_followers(request: web.Request) -> web.Response:
    return await _followers(request, "person", request.match_info["username"])


@routes.get("/communities/{handle}/followers")
async def community_followers(request: web.Request) -> web.Response:
    return await _followers(request, "group", request.match_info["handle"])


@routes.get("/communities/{handle}/members")
async def community_members(request: web.Request) -> web.Response:
    """Members = followers of the Group (listed only as far as the member list is visible)."""
    return await _followers(request, "group", request.match_info["handle"])


@routes.get("/users/{username}/following")
async def person_following(request: web.Request) -> web.Response:
    """Whom a member follows; a community shows only to those who may see its member list."""
    return await _following(request, "person", request.match_info["username"])


@routes.get("/communities/{handle}/following")
async def community_following(request: web.Request) -> web.Response:
    """Whom a community's Group follows (named by its actor document; usually nobody)."""
    return await _following(request, "group", request.match_info["handle"])


@routes.get("/actor/followers")
async def organisation_followers(request: web.Request) -> web.Response:
    """Who follows the organisation (the instance actor)."""
    return await _followers(request, "organization", "org")


@routes.get("/actor/following")
async def organisation_following(request: web.Request) -> web.Response:
    """Whom the organisation follows."""
    return await _following(request, "organization", "org")


async def _following(request: web.Request, kind: str, name: str) -> web.Response:
    ctx = request.app[CTX]
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        actor = await _author(conn, name, kind)
    page = page_number(request)
    async with ctx.db.read() as conn:
        total, items = await actor_collections.following(
            conn, viewer, actor.id, _offset(page), PAGE_SIZE
        )
    return activity_json(paged_collection(ctx.base, actor.following_url, total, page, items))


async def _outbox(
    request: web.Request,
    author: Row,
    collection_id: str,
    *,
    author_id: int | None = None,
    community_id: int | None = None,
) -> web.Response:
    ctx = request.app[CTX]
    viewer = await viewer_of(request)
    page = page_number(request)
    async with ctx.db.read() as conn:
        total, entries = await actor_collections.outbox(
            conn,
            viewer,
            _offset(page),
            PAGE_SIZE,
            author_id=author_id,
            community_id=community_id,
        )
        items: list[Any] = []
        for entry in entries:
            post = entry.post
            if post.reblog_of_id:
                items.append(
                    {
                        "id": post.uri,
                        "type": "Announce",
                        "actor": author.uri,
                        "object": entry.boosted_uri,
                    }
                )
                continue
            parts = await parts_for(conn, ctx, viewer, post.id)
            obj = convert.to_object(parts, ctx.base, with_context=False)
            items.append(
                {
                    "id": f"{post.uri}/activity",
                    "type": "Create",
                    "actor": obj["attributedTo"],
                    "object": obj,
                    "to": obj["to"],
                    "cc": obj["cc"],
                    "published": obj["published"],
                }
            )
    return activity_json(paged_collection(ctx.base, collection_id, total, page, items))


@routes.get("/users/{username}/outbox")
async def person_outbox(request: web.Request) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        actor = await _author(conn, request.match_info["username"])
    return await _outbox(request, actor, actor.outbox, author_id=actor.id)


@routes.get("/actor/outbox")
async def organisation_outbox(request: web.Request) -> web.Response:
    """What the organisation itself posted (the posts its members write are on their outboxes)."""
    async with request.app[CTX].db.read() as conn:
        actor = await _author(conn, "org", "organization")
    return await _outbox(request, actor, actor.outbox, author_id=actor.id)


@routes.get("/communities/{handle}/outbox")
async def community_outbox(request: web.Request) -> web.Response:
    """The community's posts and results the requester may see."""
    async with request.app[CTX].db.read() as conn:
        group = await _author(conn, request.match_info["handle"], "group")
        community_id = await actor_collections.community_of_group(conn, group.id)
    return await _outbox(request, group, group.outbox, community_id=community_id)


@routes.get("/users/{username}/featured")
async def person_featured(request: web.Request) -> web.Response:
    """Pinned posts (only those the requester may see)."""
    return await _featured(request, "person", request.match_info["username"])


@routes.get("/communities/{handle}/featured")
async def community_featured(request: web.Request) -> web.Response:
    """Posts the community's Group pinned (only those the requester may see)."""
    return await _featured(request, "group", request.match_info["handle"])


@routes.get("/actor/featured")
async def organisation_featured(request: web.Request) -> web.Response:
    """Posts the organisation pinned (only those the requester may see)."""
    return await _featured(request, "organization", "org")


async def _featured(request: web.Request, kind: str, name: str) -> web.Response:
    ctx = request.app[CTX]
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        actor = await _author(conn, name, kind)
        items = [
            convert.to_object(await parts_for(conn, ctx, viewer, pid), ctx.base, with_context=False)
            for pid in await actor_collections.pinned(conn, viewer, actor.id)
        ]
    return activity_json(ordered_collection(ctx.base, actor.featured_url, items))
