"""The idea box of a community hosted on another instance: ``/c/{handle}@{host}/ideas``.

Members here submit an idea (a post marked ``koers:idea`` to the Group, filed in the idea box at
home), see their own ideas with the state the home reports, see the idea posts of others the
community shared with us, and support any of them (a ``Like`` of its post, counted at home).
Registered before ``server.web.communities`` so the ``@host`` form is matched first.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import KoersError, NotFound
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.i18n import N_
from server.i18n.current import Labels
from server.i18n.messages import Message
from server.keys import CTX
from server.services import ideas, remote_communities, remote_ideas
from server.services.remote_communities import RemoteCommunity
from server.web.remote_communities import BASE

routes = web.RouteTableDef()
STATUS_LABELS = Labels(
    {
        "open": N_("Open"),
        "merged": N_("Merged with a similar idea"),
        "promoted": N_("Taken up"),
        "declined": N_("Declined"),
    }
)
FIELDS = ("title", "text", "audience")


async def _box(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        membership = await remote_communities.membership(conn, rc.actor_id, who.actor_id)
        own = await ideas.list_ideas(conn, who, rc.community.id) if rc.community else []
        shared = await remote_ideas.shared_ideas(conn, who, rc.community.id) if rc.community else []
    known = {i.post_id for i in own}
    return await render(
        request,
        "community_remote_ideas.html",
        status=status,
        rc=rc,
        membership=membership,
        ideas=own,
        shared=[s for s in shared if s.post_id not in known],
        labels=STATUS_LABELS,
        errors=errors or {},
        values=values or {"audience": "public"},
    )


async def _community_id(request: web.Request) -> tuple[RemoteCommunity, int]:
    async with request.app[CTX].db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
    if rc.community is None:
        raise NotFound("nothing of this community is known here yet: join it first")
    return rc, rc.community.id


@routes.get(BASE + "/ideas")
async def remote_idea_box(request: web.Request) -> web.Response:
    """Our members' ideas (with their state) and the idea posts shared with us."""
    return await _box(request)


@routes.post(BASE + "/ideas")
async def remote_submit(request: web.Request) -> web.Response:
    """Send an idea to the community's idea box at home (members of the community only)."""
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in FIELDS}
    rc, community_id = await _community_id(request)
    try:
        await remote_ideas.submit(
            request.app[CTX],
            user.id,
            community_id,
            title=values["title"],
            description=values["text"],
            audience=values["audience"] or "public",
        )
    except KoersError as exc:
        errors = {exc.field: exc.message} if exc.field else {"form": exc.message}
        return await _box(request, status=exc.status, errors=errors, values=values)
    flash(
        request,
        Message(
            "Thank you: your idea is on its way to the idea box on %(domain)s.", domain=rc.domain
        ),
    )
    raise redirect(f"{rc.path}/ideas")


@routes.post(BASE + r"/ideas/{post_id:\d+}/{action:support|unsupport}")
async def remote_support(request: web.Request) -> web.Response:
    """Support an idea, or withdraw the support (a like of its post; the home counts it)."""
    user = await require_user(request)
    await form(request)
    rc, community_id = await _community_id(request)
    on = request.match_info["action"] == "support"
    await remote_ideas.support(
        request.app[CTX], user.id, community_id, int(request.match_info["post_id"]), on=on
    )
    flash(
        request,
        f"Thank you for your support; {rc.domain} counts it."
        if on
        else "Your support was withdrawn.",
    )
    raise redirect(f"{rc.path}/ideas")
