"""The roadmap of a community hosted on another instance: ``/c/{handle}@{host}/roadmap``.

Items are what this instance keeps of the Group's roadmap (``server.activitypub.roadmap.sync``),
read with the viewer's visibility (``roadmap.items``). Members here support an item (a ``Like`` of
it goes to the Group, which counts it) or follow it (a ``Follow``: its status changes come back
and the follower is notified) through ``roadmap_social``, exactly as on a local roadmap.
Registered before ``server.web.communities`` so the ``@host`` form is matched first.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import NotFound
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.keys import CTX
from server.services import remote_communities, roadmap, roadmap_social
from server.web.remote_communities import BASE

routes = web.RouteTableDef()
ACTIONS = {
    "support": (roadmap_social.support, "Thank you for your support; {host} counts it."),
    "unsupport": (roadmap_social.unsupport, "Your support was withdrawn; {host} is told."),
    "follow": (
        roadmap_social.follow,
        "You will be notified when {host} changes this item's status.",
    ),
    "unfollow": (roadmap_social.unfollow, "You no longer follow this item."),
}


@routes.get(BASE + "/roadmap")
async def remote_roadmap_page(request: web.Request) -> web.Response:
    """Columns by status of the items the viewer may see, each with its support count."""
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        membership = await remote_communities.membership(conn, rc.actor_id, who.actor_id)
        items = await roadmap.items(conn, who, rc.community.id) if rc.community else []
        standings = await roadmap_social.standings(conn, [i.id for i in items], who.actor_id)
        changes = (
            await roadmap.recent_changes(conn, who, rc.community.id, limit=15)
            if rc.community
            else []
        )
    return await render(
        request,
        "community_remote_roadmap.html",
        rc=rc,
        membership=membership,
        columns=roadmap.by_status(items),
        labels=roadmap.STATUS_LABELS,
        standings=standings,
        changes=changes,
    )


@routes.post(BASE + r"/roadmap/{item_id:\d+}/{action:support|unsupport|follow|unfollow}")
async def remote_item_action(request: web.Request) -> web.Response:
    """Support / withdraw support, follow / unfollow one item (any signed-in member who may see it)."""
    user = await require_user(request)
    await form(request)
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        if rc.community is None:
            raise NotFound("no such roadmap item")
        item = await roadmap.get_item(conn, await viewer(request), rc.community.id, item_id)
    action, message = ACTIONS[request.match_info["action"]]
    await action(ctx, user.id, item.id)
    flash(request, message.format(host=rc.domain))
    raise redirect(f"{rc.path}/roadmap#item-{item.id}")
