"""``/api/v1/push/subscription``: an app's Web Push subscription for its access token.

Body fields as Mastodon takes them: ``subscription[endpoint]``, ``subscription[keys][p256dh]``,
``subscription[keys][auth]``, ``subscription[standard]`` (RFC 8291 ``aes128gcm`` instead of the
older ``aesgcm``), ``data[alerts][<type>]`` and ``data[policy]`` (or ``policy``, as Mastodon.py sends it).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import push_worker
from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json
from server.services import push
from server.services.push import Subscription

routes = web.RouteTableDef()
PATH = "/api/v1/push/subscription"


def subscription_json(request: web.Request, sub: Subscription) -> dict[str, Any]:
    """The Mastodon ``WebPushSubscription`` entity."""
    return {
        "id": str(sub.id),
        "endpoint": sub.endpoint,
        "standard": sub.standard,
        "alerts": sub.alerts,
        "policy": sub.policy,
        "server_key": push.vapid_public_key(ctx(request).settings),
    }


def _alerts(p: params.Params) -> dict[str, bool]:
    prefix = "data[alerts]["
    return {
        key[len(prefix) : -1]: params.truthy(values[-1])
        for key, values in p.values.items()
        if key.startswith(prefix) and key.endswith("]")
    }


async def _show(request: web.Request, token_id: int) -> web.Response:
    async with ctx(request).db.read() as conn:
        return json(subscription_json(request, await push.get(conn, token_id)))


@routes.get(PATH)
async def get_subscription(request: web.Request) -> web.Response:
    auth = await user_auth(request, "push")
    return await _show(request, auth.token_id)


@routes.post(PATH)
async def create_subscription(request: web.Request) -> web.Response:
    auth = await user_auth(request, "push")
    p = await params.read(request)
    await push.subscribe(
        ctx(request),
        auth.token_id,
        auth.actor_id,
        endpoint=p.str("subscription[endpoint]") or "",
        p256dh=p.str("subscription[keys][p256dh]") or "",
        auth=p.str("subscription[keys][auth]") or "",
        alerts=_alerts(p),
        policy=p.str("data[policy]") or p.str("policy"),
        standard=bool(p.bool("subscription[standard]", False)),
    )
    return await _show(request, auth.token_id)


@routes.put(PATH)
async def update_subscription(request: web.Request) -> web.Response:
    auth = await user_auth(request, "push")
    p = await params.read(request)
    await push.update(
        ctx(request),
        auth.token_id,
        alerts=_alerts(p),
        policy=p.str("data[policy]") or p.str("policy"),
    )
    return await _show(request, auth.token_id)


@routes.delete(PATH)
async def delete_subscription(request: web.Request) -> web.Response:
    auth = await user_auth(request, "push")
    await push.unsubscribe(ctx(request), auth.token_id)
    return json({})


def setup(app: web.Application) -> None:
    """The routes, and the sender that runs with the workers."""
    app.router.add_routes(routes)
    push_worker.setup(app)
