"""``/api/v1/notifications``: list (``types[]``, ``exclude_types[]``), get, clear, dismiss.

Koers' own types (``koers.role_assigned``, ``koers.result`` …) are listed only when the client
names them in ``types[]``: Mastodon apps stumble over types they do not know.
"""

from __future__ import annotations

from aiohttp import web

from server import clock
from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.present import accounts_by_id, statuses_json
from server.services import inbox_notifications as inbox
from server.visibility import Viewer

routes = web.RouteTableDef()
ID = r"{id:\d+}"


async def render_notifications(conn, c, viewer: Viewer, rows) -> list[dict]:  # type: ignore[no-untyped-def]
    """Mastodon Notification entities for notification rows (also used by the streaming API)."""
    actor_ids = list(dict.fromkeys((r.from_actor_id or viewer.actor_id) for r in rows))
    accounts = {int(a["id"]): a for a in await accounts_by_id(conn, c, actor_ids)}
    post_ids = list(dict.fromkeys(r.post_id for r in rows if r.post_id))
    statuses = {int(s["id"]): s for s in await statuses_json(conn, c, viewer, post_ids)}
    out = []
    for r in rows:
        account = accounts.get(r.from_actor_id or viewer.actor_id)
        if account is None:
            continue
        item = {"id": str(r.id), "type": r.type, "created_at": clock.iso(r.created_at), "account": account,
                "status": statuses.get(r.post_id) if r.post_id else None, "group_key": f"ungrouped-{r.id}"}  # fmt: skip
        if r.type.startswith("koers."):
            item["koers"] = {"community_id": str(r.community_id) if r.community_id else None, **(r.extra or {})}
        if r.post_id and item["status"] is None:
            continue
        out.append(item)
    return out


@routes.get("/api/v1/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:notifications")
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids = await inbox.list_ids(conn, auth.viewer, page(p, default=40, maximum=80), types=p.list("types"),
                                   exclude=p.list("exclude_types"), from_account=p.id("account_id"))  # fmt: skip
        body = await render_notifications(conn, c, auth.viewer, await inbox.rows(conn, ids))
    return json(body, headers=link_header(request, ids, c.base))


@routes.get("/api/v1/notifications/unread_count")
async def unread(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:notifications")
    async with ctx(request).db.read() as conn:
        return json({"count": await inbox.unread_count(conn, auth.viewer)})


@routes.get(f"/api/v1/notifications/{ID}")
async def get_notification(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:notifications")
    c = ctx(request)
    async with c.db.read() as conn:
        row = await inbox.get(conn, auth.viewer, path_id(request))
        body = await render_notifications(conn, c, auth.viewer, [row])
    if not body:
        from server.errors import NotFound

        raise NotFound("Record not found")
    return json(body[0])


@routes.post("/api/v1/notifications/clear")
async def clear(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:notifications")
    await inbox.dismiss(ctx(request), auth.actor_id)  # type: ignore[arg-type]
    return json({})


@routes.post(f"/api/v1/notifications/{ID}/dismiss")
async def dismiss(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:notifications")
    await inbox.dismiss(ctx(request), auth.actor_id, path_id(request))  # type: ignore[arg-type]
    return json({})


@routes.post("/api/v1/notifications/dismiss")
async def dismiss_v0(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:notifications")
    p = await params.read(request)
    notification_id = p.id("id")
    if notification_id is None:
        from server.errors import ValidationError

        raise ValidationError("id: required", field="id")
    await inbox.dismiss(ctx(request), auth.actor_id, notification_id)  # type: ignore[arg-type]
    return json({})


@routes.get("/api/v2/notifications")
async def grouped_notifications(request: web.Request) -> web.Response:
    """Mastodon 4.3's grouped notifications; Koers does not group, so each group holds one."""
    auth = await user_auth(request, "read:notifications")
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids = await inbox.list_ids(conn, auth.viewer, page(p, default=40, maximum=80), types=p.list("types"),
                                   exclude=p.list("exclude_types"), from_account=p.id("account_id"))  # fmt: skip
        items = await render_notifications(conn, c, auth.viewer, await inbox.rows(conn, ids))
    accounts = {i["account"]["id"]: i["account"] for i in items}
    statuses = {i["status"]["id"]: i["status"] for i in items if i["status"]}
    groups = [{
        "group_key": i["group_key"], "notifications_count": 1, "type": i["type"],
        "most_recent_notification_id": i["id"], "page_min_id": i["id"], "page_max_id": i["id"],
        "latest_page_notification_at": i["created_at"], "sample_account_ids": [i["account"]["id"]],
        "status_id": i["status"]["id"] if i["status"] else None,
    } for i in items]  # fmt: skip
    return json({"accounts": list(accounts.values()), "statuses": list(statuses.values()),
                 "notification_groups": groups}, headers=link_header(request, ids, c.base))  # fmt: skip
