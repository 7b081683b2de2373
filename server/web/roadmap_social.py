"""The roadmap item page's "Follow" and "Support" buttons (one support per person) and its comment form."""

from __future__ import annotations

from aiohttp import web

from server.errors import ValidationError
from server.http.pages import flash, form, redirect, require_user
from server.i18n.messages import Message, as_message
from server.keys import CTX
from server.services import posts, roadmap, roadmap_social
from server.web.community_scope import scope

routes = web.RouteTableDef()
ACTIONS = {
    "follow": (roadmap_social.follow, "You will hear about every status change of this item."),
    "unfollow": (roadmap_social.unfollow, "You no longer follow this item."),
    "support": (roadmap_social.support, "Thank you for your support."),
    "unsupport": (roadmap_social.unsupport, "Your support was withdrawn."),
}


@routes.post(r"/c/{handle}/roadmap/{item_id:\d+}/{action:(follow|unfollow|support|unsupport)}")
async def item_action(request: web.Request) -> web.Response:
    user = await require_user(request)
    await form(request)
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        await roadmap.get_item(conn, s.viewer, s.community.id, item_id)
    action, message = ACTIONS[request.match_info["action"]]
    await action(ctx, user.id, item_id)
    flash(request, message)
    raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}")


@routes.post(r"/c/{handle}/roadmap/{item_id:\d+}/comment")
async def comment_submit(request: web.Request) -> web.Response:
    """A comment on an item: a community post linked to it (members only), as visible as the item.

    Comments federate like any community post (with ``koers:roadmapItem``) and are answered with
    ordinary replies, so Mastodon users see and join the discussion.
    """
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        item = await roadmap.get_item(conn, s.viewer, s.community.id, item_id)
    draft = posts.Draft(
        source=str(data.get("text", "")),
        audience=item.audience,
        community_id=s.community.id,
        roadmap_item_id=item.id,
    )
    try:
        await posts.create_post(ctx, user.id, draft)
    except ValidationError as exc:
        flash(
            request,
            Message("Your comment was not posted: %(message)s", message=as_message(exc.message)),
        )
        raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}#discussion") from None
    flash(request, "Comment posted.")
    raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}#discussion")
