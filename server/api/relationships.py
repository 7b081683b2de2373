"""Follow, block and mute; relationships; follow requests; block, mute and domain-block lists; suggestions."""

from __future__ import annotations

from aiohttp import web

from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.entities import to_mastodon_relationship
from server.api.present import accounts_by_id
from server.errors import NotFound
from server.services import account_lists, follows, user_domain_blocks

routes = web.RouteTableDef()
ID = r"{id:\d+}"


async def _relationship(request: web.Request, me: int, other: int) -> dict:
    async with ctx(request).db.read() as conn:
        rel = await follows.relationship(conn, me, other)
        domain = await account_lists.domain_of(conn, other)
        blocked = domain is not None and domain in await user_domain_blocks.blocked_domains(
            conn, me
        )
    return to_mastodon_relationship(other, rel, domain_blocking=blocked)


async def _act(request: web.Request, scope: str, action) -> web.Response:
    auth = await user_auth(request, scope)
    me, other = auth.actor_id, path_id(request)
    async with ctx(request).db.read() as conn:
        exists = await account_lists.known_actors(conn, [other])
    if not exists:
        raise NotFound("Record not found")
    p = await params.read(request)
    await action(ctx(request), me, other, p)
    return json(await _relationship(request, me, other))


@routes.post(f"/api/v1/accounts/{ID}/follow")
async def follow(request: web.Request) -> web.Response:
    async def act(c, me, other, p):
        await follows.follow(
            c, me, other, show_reblogs=p.bool("reblogs", True), notify=bool(p.bool("notify", False))
        )

    return await _act(request, "write:follows", act)


@routes.post(f"/api/v1/accounts/{ID}/unfollow")
async def unfollow(request: web.Request) -> web.Response:
    return await _act(
        request, "write:follows", lambda c, me, other, p: follows.unfollow(c, me, other)
    )


@routes.post(f"/api/v1/accounts/{ID}/remove_from_followers")
async def remove_from_followers(request: web.Request) -> web.Response:
    return await _act(
        request, "write:follows", lambda c, me, other, p: follows.reject_follow(c, me, other, me)
    )


@routes.post(f"/api/v1/accounts/{ID}/block")
async def block(request: web.Request) -> web.Response:
    return await _act(request, "write:blocks", lambda c, me, other, p: follows.block(c, me, other))


@routes.post(f"/api/v1/accounts/{ID}/unblock")
async def unblock(request: web.Request) -> web.Response:
    return await _act(
        request, "write:blocks", lambda c, me, other, p: follows.unblock(c, me, other)
    )


@routes.post(f"/api/v1/accounts/{ID}/mute")
async def mute(request: web.Request) -> web.Response:
    return await _act(
        request,
        "write:mutes",
        lambda c, me, other, p: follows.mute(
            c, me, other, notifications_too=bool(p.bool("notifications", True))
        ),
    )


@routes.post(f"/api/v1/accounts/{ID}/unmute")
async def unmute(request: web.Request) -> web.Response:
    return await _act(request, "write:mutes", lambda c, me, other, p: follows.unmute(c, me, other))


@routes.get("/api/v1/accounts/relationships")
async def relationships(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:follows")
    p = await params.read(request)
    ids = p.ids("id")[:80]
    async with ctx(request).db.read() as conn:
        known = await account_lists.known_actors(conn, ids)
    return json([await _relationship(request, auth.actor_id, i) for i in ids if i in known])


@routes.get("/api/v1/accounts/familiar_followers")
async def familiar_followers(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:follows")
    p = await params.read(request)
    c = ctx(request)
    out = []
    async with c.db.read() as conn:
        for other in p.ids("id")[:40]:
            known = await account_lists.familiar_followers(conn, auth.actor_id, other)
            out.append({"id": str(other), "accounts": await accounts_by_id(conn, c, known)})
    return json(out)


async def _list_of(request: web.Request, lister, actor_id: int) -> web.Response:
    """A page of accounts from ``lister(conn, actor_id, page)`` (``services.account_lists``)."""
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids, actor_ids = await lister(conn, actor_id, page(p, default=40, maximum=80))
        body = await accounts_by_id(conn, c, actor_ids)
    return json(body, headers=link_header(request, ids, c.base))


@routes.get("/api/v1/follow_requests")
async def follow_requests(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:follows")
    return await _list_of(request, account_lists.follow_requests_to, auth.actor_id)


@routes.post(f"/api/v1/follow_requests/{ID}/authorize")
async def authorize_request(request: web.Request) -> web.Response:
    return await _act(
        request, "write:follows", lambda c, me, other, p: follows.accept_follow(c, me, other, me)
    )


@routes.post(f"/api/v1/follow_requests/{ID}/reject")
async def reject_request(request: web.Request) -> web.Response:
    return await _act(
        request, "write:follows", lambda c, me, other, p: follows.reject_follow(c, me, other, me)
    )


@routes.get("/api/v1/blocks")
async def blocks(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:blocks")
    return await _list_of(request, account_lists.blocked_by, auth.actor_id)


@routes.get("/api/v1/mutes")
async def mutes(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:mutes")
    return await _list_of(request, account_lists.muted_by, auth.actor_id)


@routes.get("/api/v1/domain_blocks")
async def domain_blocks(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:blocks")
    async with ctx(request).db.read() as conn:
        return json(await user_domain_blocks.blocked_domains(conn, auth.actor_id))


@routes.post("/api/v1/domain_blocks")
async def add_domain_block(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:blocks")
    p = await params.read(request)
    await user_domain_blocks.block_domain(ctx(request), auth.actor_id, p.str("domain") or "")
    return json({})


@routes.delete("/api/v1/domain_blocks")
async def remove_domain_block(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:blocks")
    p = await params.read(request)
    await user_domain_blocks.unblock_domain(ctx(request), auth.actor_id, p.str("domain") or "")
    return json({})


async def _suggested_ids(request: web.Request, me: int, limit: int) -> list[tuple[int, str]]:
    async with ctx(request).db.read() as conn:
        return await account_lists.suggested_accounts(conn, me, limit)


@routes.get("/api/v2/suggestions")
async def suggestions_v2(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read")
    p = await params.read(request)
    c = ctx(request)
    pairs = await _suggested_ids(request, auth.actor_id, max(1, min(p.int("limit", 40) or 40, 80)))
    async with c.db.read() as conn:
        accs = await accounts_by_id(conn, c, [i for i, _ in pairs])
    sources = dict(pairs)
    return json(
        [
            {"source": "past_interactions", "sources": [sources[int(a["id"])]], "account": a}
            for a in accs
        ]
    )


@routes.get("/api/v1/suggestions")
async def suggestions_v1(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read")
    c = ctx(request)
    pairs = await _suggested_ids(request, auth.actor_id, 40)
    async with c.db.read() as conn:
        return json(await accounts_by_id(conn, c, [i for i, _ in pairs]))


@routes.delete(f"/api/v1/suggestions/{ID}")
async def dismiss_suggestion(request: web.Request) -> web.Response:
    await user_auth(request, "read")
    return json({})
