"""``/api/v1/lists``: lists CRUD and membership; joined communities appear as auto-managed lists."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Row

from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.present import accounts_by_id
from server.errors import ValidationError
from server.services import lists

routes = web.RouteTableDef()
ID = r"{id:\d+}"


def to_mastodon_list(row: Row) -> dict:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": bool(row.exclusive),
        "koers": {"community_id": str(row.community_id) if row.community_id else None},
    }


@routes.get("/api/v1/lists")
async def all_lists(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:lists")
    await lists.sync_community_lists(ctx(request), auth.actor_id)
    async with ctx(request).db.read() as conn:
        return json([to_mastodon_list(r) for r in await lists.all_lists(conn, auth.actor_id)])


@routes.get(f"/api/v1/lists/{ID}")
async def get_list(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:lists")
    async with ctx(request).db.read() as conn:
        return json(to_mastodon_list(await lists.own_list(conn, auth.actor_id, path_id(request))))


@routes.post("/api/v1/lists")
async def create(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:lists")
    p = await params.read(request)
    list_id = await lists.create_list(
        ctx(request),
        auth.actor_id,
        p.str("title") or "",
        p.str("replies_policy") or "list",
        bool(p.bool("exclusive", False)),
    )
    async with ctx(request).db.read() as conn:
        return json(to_mastodon_list(await lists.own_list(conn, auth.actor_id, list_id)))


@routes.put(f"/api/v1/lists/{ID}")
async def update(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:lists")
    p = await params.read(request)
    await lists.update_list(
        ctx(request),
        auth.actor_id,
        path_id(request),
        title=p.str("title"),
        replies_policy=p.str("replies_policy"),
        exclusive=p.bool("exclusive"),
    )
    async with ctx(request).db.read() as conn:
        return json(to_mastodon_list(await lists.own_list(conn, auth.actor_id, path_id(request))))


@routes.delete(f"/api/v1/lists/{ID}")
async def delete(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:lists")
    await lists.delete_list(ctx(request), auth.actor_id, path_id(request))
    return json({})


@routes.get(f"/api/v1/lists/{ID}/accounts")
async def members(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:lists")
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        row = await lists.own_list(conn, auth.actor_id, path_id(request))
        ids, actor_ids = await lists.members_page(conn, row, page(p, default=40, maximum=80))
        body = await accounts_by_id(conn, c, actor_ids)
    return json(body, headers=link_header(request, ids, c.base))


@routes.post(f"/api/v1/lists/{ID}/accounts")
async def add_members(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:lists")
    p = await params.read(request)
    ids = p.ids("account_ids")
    if not ids:
        raise ValidationError("account_ids: required", field="account_ids")
    await lists.add_accounts(ctx(request), auth.actor_id, path_id(request), ids)
    return json({})


@routes.delete(f"/api/v1/lists/{ID}/accounts")
async def remove_members(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:lists")
    p = await params.read(request)
    await lists.remove_accounts(ctx(request), auth.actor_id, path_id(request), p.ids("account_ids"))
    return json({})
