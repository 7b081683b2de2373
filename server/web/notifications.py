"""Notifications (newest first, each post checked again against the visibility module) and the
follow requests of a locked account."""

from __future__ import annotations

from aiohttp import web

from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.http.params import as_id
from server.i18n import N_
from server.keys import CTX
from server.services import follows, inbox_notifications, people
from server.services.views import actor_view, load_actors, load_posts
from server.visibility import can_see_post

routes = web.RouteTableDef()

PAGE = 40
DESCRIPTIONS = {
    "mention": N_("mentioned you"),
    "status": N_("posted"),
    "reblog": N_("boosted your post"),
    "follow": N_("followed you"),
    "follow_request": N_("asked to follow you"),
    "favourite": N_("liked your post"),
    "poll": N_("a poll you took part in ended"),
    "update": N_("edited a post you boosted"),
    "koers.role_assigned": N_("gave you a role"),
    "koers.role_requested": N_("asked for a role"),
    "koers.result": N_("posted a result"),
    "koers.purpose_changed": N_("changed a community's purpose"),
    "koers.endorse_requested": N_("changed a community's purpose: please read and endorse it"),
    "koers.proposal": N_("proposed a change to a community's purpose"),
    "koers.decision_opened": N_("opened a decision on a community's purpose"),
    "koers.decision_closed": N_("closed a decision on your purpose proposal"),
    "koers.join_request": N_("asked to join a community"),
    "koers.report": N_("filed a report"),
    "koers.roadmap_status": N_("changed a roadmap item's status"),
    "koers.member_added": N_("added you to a community"),
    "koers.idea": N_("sent an idea to a community you manage"),
    "koers.idea_update": N_("decided on your idea"),
    "koers.join_approved": N_("approved your request to join a community"),
    "koers.event_request": N_("asked to join an event you organise"),
    "koers.event_decision": N_("decided on your request to join an event"),
    "koers.role_term_ended": N_("says a role's term has ended: time to reconsider it"),
}


@routes.get("/notifications")
async def notifications_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    who = await viewer(request)
    max_id = as_id(request.query.get("max_id"))
    async with ctx.db.read() as conn:
        rows = await inbox_notifications.newest_of(conn, user.id, max_id, PAGE)
        # A notification about a post the member may no longer see (deleted, or its author blocked
        # them) is left out: the post is checked again, now.
        visible_posts: set[int] = set()
        for pid in {r.post_id for r in rows if r.post_id}:
            if await can_see_post(conn, who, pid):
                visible_posts.add(pid)
        shown = [r for r in rows if r.post_id is None or r.post_id in visible_posts]
        actors = await load_actors(
            conn, {r.from_actor_id for r in shown if r.from_actor_id}, ctx.base, ctx.settings.domain
        )
        post_views = {
            p.id: p
            for p in await load_posts(
                conn, who, sorted(visible_posts), base=ctx.base, local_domain=ctx.settings.domain
            )
        }
    items = [
        {
            "row": r,
            "actor": actors.get(r.from_actor_id),
            "post": post_views.get(r.post_id),
            "text": DESCRIPTIONS.get(r.type, r.type),
        }
        for r in shown
    ]
    next_url = f"/notifications?max_id={rows[-1].id}" if len(rows) == PAGE else None
    return await render(request, "notifications.html", items=items, next_url=next_url)


@routes.post("/notifications/read")
async def mark_read(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    await form(request)
    await inbox_notifications.mark_all_read(ctx, user.id)
    flash(request, "All notifications are marked as read.")
    raise redirect("/notifications")


@routes.get("/follow_requests")
async def follow_requests_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    async with ctx.db.read() as conn:
        rows = await people.pending_followers(conn, user.id)
    shown = [actor_view(r, ctx.base, ctx.settings.domain) for r in rows]
    return await render(request, "follow_requests.html", people=shown)


@routes.post(r"/follow_requests/{actor_id:\d+}/{decision:accept|reject}")
async def decide_follow_request(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    user = await require_user(request)
    await form(request)
    follower_id = int(request.match_info["actor_id"])
    if request.match_info["decision"] == "accept":
        await follows.accept_follow(ctx, user.id, follower_id, user.id)
        flash(request, "Follow request accepted.")
    else:
        await follows.reject_follow(ctx, user.id, follower_id, user.id)
        flash(request, "Follow request declined.")
    raise redirect("/follow_requests")
