"""The roles of a community hosted on another instance: ``/c/{handle}@{host}/roles``.

What we know of them (kept fresh by ``activitypub.role_sync`` and the Group's ``Update`` of each
role) with fill mode, competencies and holders with their terms. A member claims an open or
by-approval role from here: the claim is a ``Join`` of the role sent to its home, pending until the
``Accept``; giving it up is a ``Leave``. Registered before ``server.web.communities``.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError, NotFound
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.keys import CTX
from server.services import remote_communities, role_terms, roles
from server.web.remote_communities import BASE

routes = web.RouteTableDef()


async def _page(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    who = await viewer(request)
    async with request.app[CTX].db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        membership = await remote_communities.membership(conn, rc.actor_id, who.actor_id)
        found = await roles.roles_of(conn, rc.community.id) if rc.community is not None else []
    mine = {
        r.id: p.state for r in found for p in [*r.holders, *r.requested] if p.id == who.actor_id
    }
    up = {(r.id, h.id) for r in found for h in r.holders if role_terms.is_up(h.ends_at)}
    return await render(
        request,
        "community_remote_roles.html",
        status=status,
        rc=rc,
        membership=membership,
        roles=found,
        my_states=mine,
        up=up,
        error=error,
    )


@routes.get(BASE + "/roles")
async def remote_roles_page(request: web.Request) -> web.Response:
    """The remote community's roles as this instance knows them (404 for a community unknown here)."""
    return await _page(request)


@routes.post(BASE + r"/roles/{role_id:\d+}/{action:claim|release}")
async def claim_or_release(request: web.Request) -> web.Response:
    """Claim a role (a ``Join`` to its home, pending until the Accept) or give it up (``Leave``)."""
    user = await require_user(request)
    await form(request)
    ctx = request.app[CTX]
    role_id = int(request.match_info["role_id"])
    async with ctx.db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        if rc.community is None:
            raise NotFound("no such role")
        await roles.get_role(conn, rc.community.id, role_id)
    try:
        if request.match_info["action"] == "claim":
            await roles.claim_role(ctx, user.id, role_id)
            message = f"Your claim was sent to {rc.domain}; the role is yours once it answers."
        else:
            await roles.release_role(ctx, user.id, role_id)
            message = f"You gave the role up; {rc.domain} is told."
    except KoersError as exc:
        if exc.status >= 500:
            raise
        return await _page(request, status=exc.status, error=exc.message)
    flash(request, message)
    raise redirect(f"{rc.path}/roles")
