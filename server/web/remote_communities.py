"""Pages of a community hosted on another instance: ``/c/{handle}@{host}``.

What this instance holds of it (purpose versions, events, posts addressed to it) is shown with the
viewer's visibility; members take part through the same services as the Koers API: joining is a
follow of the Group (pending until its Accept), endorsing sends a ``Like`` of the purpose version,
an RSVP sends a ``Join`` of the event. Registered before ``server.web.communities`` so the
``@host`` form is matched first.
"""

from __future__ import annotations

from aiohttp import web

from server.activitypub.core import remote_sync
from server.errors import Conflict, Forbidden, NotFound
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.i18n.messages import Message
from server.keys import CTX
from server.services import (
    communities,
    community_events,
    follows,
    purpose,
    purpose_endorsements,
    purpose_phases,
    remote_communities,
    timelines,
)
from server.services.remote_communities import RemoteCommunity
from server.services.views import load_posts

routes = web.RouteTableDef()

BASE = r"/c/{handle:[A-Za-z0-9_]+}@{host:[A-Za-z0-9.\-]+(?::\d+)?}"


async def find_remote(request: web.Request) -> RemoteCommunity:
    """The remote community of the request's ``{handle}@{host}`` (NotFound when not known here)."""
    async with request.app[CTX].db.read() as conn:
        return await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )


async def _page(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    ctx = request.app[CTX]
    who = await viewer(request)
    async with ctx.db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        membership = await remote_communities.membership(conn, rc.actor_id, who.actor_id)
        c = rc.community
        current = posts = upcoming = None
        states: dict[int, str | None] = {}
        endorsed, known_members, phase, manager = False, 0, None, False
        if c is not None:
            manager = await communities.is_manager(conn, c.id, who.actor_id)
            current = await purpose.current(conn, c.id)
            phase = await purpose_phases.current(conn, c.id)
            endorsed = await purpose_endorsements.has_endorsed(conn, c.id, who.actor_id)
            ids = await timelines.community(conn, who, c.id, timelines.Page(limit=20))
            posts = await load_posts(
                conn, who, ids, base=ctx.base, local_domain=ctx.settings.domain
            )
            upcoming, _ = community_events.split_upcoming(
                await community_events.events_of(conn, who, c.id)
            )
            states = {
                e.id: await community_events.state_of(conn, e.id, who.actor_id) for e in upcoming
            }
            known_members = (await communities.member_counts(conn, [c.id])).get(c.id, 0)
    return await render(
        request,
        "community_remote.html",
        status=status,
        rc=rc,
        membership=membership,
        purpose=current,
        endorsed=endorsed,
        phase=phase,
        posts=posts or [],
        events=upcoming or [],
        rsvp_states=states,
        known_members=known_members,
        error=error,
        remote_manager=manager,
    )


@routes.get(BASE)
async def remote_community_page(request: web.Request) -> web.Response:
    """The remote community as this instance knows it (404 when it is not known here)."""
    return await _page(request)


@routes.post(BASE + "/{action:join|leave}")
async def membership(request: web.Request) -> web.Response:
    """Join (a follow of the Group: pending until its Accept) or leave / withdraw the request."""
    user = await require_user(request)
    await form(request)
    rc = await find_remote(request)
    if request.match_info["action"] == "join":
        state = await follows.follow(request.app[CTX], user.id, rc.actor_id)
        flash(
            request,
            "Welcome aboard!"
            if state == "accepted"
            else f"Your request to join was sent to {rc.domain}.",
        )
    else:
        await follows.unfollow(request.app[CTX], user.id, rc.actor_id)
        flash(request, "You left the community.")
    raise redirect(rc.path)


@routes.post(BASE + "/refresh")
async def refresh(request: web.Request) -> web.Response:
    """A member asks to catch up with what the community's instance publishes (purpose, roadmap …)."""
    user = await require_user(request)
    await form(request)
    rc = await find_remote(request)
    async with request.app[CTX].db.read() as conn:
        if (
            rc.community is None
            or await remote_communities.membership(conn, rc.actor_id, user.id) != "accepted"
        ):
            raise Forbidden("only members of this community refresh it from its instance")
    # Network I/O: outside any transaction (each syncer writes in its own).
    report = await remote_sync.sync_community(request.app, rc.community.id)
    if report.failed:
        flash(
            request,
            Message(
                "Some of it could not be fetched from %(domain)s; try again later.",
                domain=rc.domain,
            ),
        )
    else:
        flash(request, Message("Up to date with %(domain)s.", domain=rc.domain))
    raise redirect(rc.path)


@routes.post(BASE + "/endorse")
async def endorse(request: web.Request) -> web.Response:
    """Endorse the purpose version in force (members only): a ``Like`` goes to the Group."""
    user = await require_user(request)
    await form(request)
    rc = await find_remote(request)
    if rc.community is None:
        raise NotFound("this community's purpose is not known here yet")
    version = await purpose_endorsements.endorse(request.app[CTX], user.id, rc.community.id)
    flash(
        request,
        Message(
            "You endorsed version %(version)s of the purpose; %(domain)s is told.",
            version=version,
            domain=rc.domain,
        ),
    )
    raise redirect(rc.path)


@routes.post(BASE + r"/events/{event_id:\d+}/{action:join|leave}")
async def rsvp(request: web.Request) -> web.Response:
    """Ask for a place at one of its events (a ``Join``, pending until the Accept) or give it up."""
    user = await require_user(request)
    await form(request)
    ctx = request.app[CTX]
    rc = await find_remote(request)
    if rc.community is None:
        raise NotFound("no such event")
    event_id = int(request.match_info["event_id"])
    async with ctx.db.read() as conn:
        await community_events.get_event(conn, await viewer(request), rc.community.id, event_id)
    try:
        if request.match_info["action"] == "join":
            state = await community_events.rsvp(ctx, user.id, event_id)
            message = (
                "You are going."
                if state == "joined"
                else f"Your place is asked for at {rc.domain}."
            )
        else:
            await community_events.leave(ctx, user.id, event_id)
            message = "You are no longer taking part."
    except Conflict as exc:
        return await _page(request, status=exc.status, error=exc.message)
    flash(request, message)
    raise redirect(rc.path)
