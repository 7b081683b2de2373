"""Community pages: the list, starting one, the community page, joining and leaving, the purpose
and its history, the member list and the managers' page."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import KoersError, NotFound
from server.http.pages import (
    current_user,
    flash,
    form,
    redirect,
    render,
    require_user,
    unread_in,
)
from server.i18n.messages import Message
from server.keys import CTX
from server.services import (
    communities,
    community_lists,
    purpose,
    roadmap,
    roles,
    timelines,
)
from server.services import community_page as page_facts
from server.services.people import actor_id_by_username
from server.services.post_cache import load_posts
from server.web.cards import audience_choices
from server.web.community_scope import Scope, form_error, int_or_none, scope
from server.web.compose import options_for
from server.web.forms import field_errors
from server.web.purpose_page import purpose_page_response

routes = web.RouteTableDef()

RESULT_AUDIENCES = audience_choices(
    ("public", "community", "members", "partners", "followers", "unlisted")
)


@routes.get("/communities")
async def community_list(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    await current_user(request)  # before the unit, which may await nothing but its statements

    async def load(conn: AsyncConnection) -> tuple[list, dict, dict, list]:
        found = await communities.list_local(conn)
        counts = await communities.member_counts(conn, [c.id for c in found])
        purposes = {c.id: await purpose.current_shown(conn, c.id) for c in found}
        remote = await community_lists.joined_remote_communities(conn)
        return found, counts, purposes, remote

    found, counts, purposes, remote = await ctx.db.read(load)
    return await render(
        request,
        "community_list.html",
        communities=found,
        counts=counts,
        purposes=purposes,
        remote=remote,
    )


@routes.get("/communities/new")
async def new_community_page(request: web.Request) -> web.Response:
    await require_user(request)
    return await render(
        request,
        "community_new.html",
        values={"openness": "open", "member_list_visibility": "public"},
        errors={},
    )


@routes.post("/communities/new")
async def new_community_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    fields = ("handle", "name", "purpose", "description", "openness", "member_list_visibility")
    values = {k: str(data.get(k, "")) for k in fields}
    try:
        community = await communities.create_community(
            request.app[CTX],
            user.id,
            handle=values["handle"],
            name=values["name"],
            purpose_text=values["purpose"],
            description=values["description"],
            openness=values["openness"] or "open",
            member_list_visibility=values["member_list_visibility"] or "public",
        )
    except KoersError as exc:
        return await form_error(request, exc, "community_new.html", values=values)
    flash(
        request,
        Message(
            "%(name)s is started. Add roles and a roadmap so people can join in.",
            name=community.name,
        ),
    )
    raise redirect(f"/c/{community.handle}")


async def community_page_response(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """The community page; the result form re-renders here with its errors."""
    ctx = request.app[CTX]
    # before the unit, which may await nothing but its statements
    user = await current_user(request)

    async def load(conn: AsyncConnection) -> tuple[Scope, list | None, dict[str, Any]]:
        # one unit of work: every statement of the page in one hop (``db.read`` runs it inline)
        s = await scope(request, conn)
        c = s.community
        current = await purpose.current_shown(conn, c.id)
        # the facts beside the feeds, cached until a write changes them
        facts, up_terms = await page_facts.facts(conn, ctx, s.viewer, c.id)
        items = facts.items
        result_ids = await timelines.community(
            conn, s.viewer, c.id, timelines.Page(limit=5), only_results=True
        )
        post_ids = await timelines.community(conn, s.viewer, c.id, timelines.Page(limit=10))
        # One load for both lists (each load is a dozen queries).
        wanted = [*result_ids, *[p for p in post_ids if p not in result_ids]]
        loaded = await load_posts(
            conn, s.viewer, wanted, base=ctx.base, local_domain=ctx.settings.domain
        )
        is_result = set(result_ids)
        results = [p for p in loaded if p.id in is_result]
        posts = [p for p in loaded if p.id not in is_result]
        if user is not None and s.is_member:  # the compose form's communities
            joined: list | None = await community_lists.joined(conn, user.id)
        else:
            joined = None
        return (
            s,
            joined,
            {
                **await unread_in(conn, s.viewer),
                "purpose": current,
                "phase": facts.phase,
                "roles": facts.roles,
                "open_roles": [r for r in facts.roles if r.claimable],
                "columns": roadmap.by_status(items),
                "status_labels": roadmap.STATUS_LABELS,
                "changes": facts.changes,
                "results": results,
                "posts": posts,
                "member_count": facts.member_count,
                "managers": facts.managers,
                "result_audiences": RESULT_AUDIENCES,
                "initiatives": facts.initiatives,
                "up_terms": up_terms,
                "item_options": [("", "— none —"), *[(str(i.id), i.title) for i in items]],
            },
        )

    s, joined, page = await ctx.db.read(load)
    if joined is not None:
        page["compose"] = options_for(user, joined)
    return await render(
        request,
        "community.html",
        status=status,
        errors=errors or {},
        values=values or {"audience": "public"},
        **page,
        **s.template_vars(),
    )


@routes.get("/c/{handle}")
async def community_page(request: web.Request) -> web.Response:
    return await community_page_response(request)


@routes.post("/c/{handle}/join")
async def join(request: web.Request) -> web.Response:
    user = await require_user(request)
    await form(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    state = await communities.join(ctx, user.id, s.community.id)
    flash(
        request,
        "Welcome aboard!"
        if state == "accepted"
        else "Your request to join was sent to the managers.",
    )
    raise redirect(f"/c/{s.community.handle}")


@routes.post("/c/{handle}/leave")
async def leave(request: web.Request) -> web.Response:
    user = await require_user(request)
    await form(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    was = s.membership
    await communities.leave(ctx, user.id, s.community.id)
    flash(
        request, "You left the community." if was == "accepted" else "Your request was withdrawn."
    )
    raise redirect(f"/c/{s.community.handle}")


@routes.get("/c/{handle}/purpose")
async def purpose_page(request: web.Request) -> web.Response:
    return await purpose_page_response(request)


@routes.post("/c/{handle}/purpose")
async def purpose_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {"purpose": str(data.get("purpose", "")), "reason": str(data.get("reason", ""))}
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        version = await purpose.change_purpose(
            ctx, user.id, s.community.id, values["purpose"], values["reason"]
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await purpose_page_response(
            request, status=exc.status, errors=field_errors(exc) or {}, values=values
        )
    flash(
        request,
        Message(
            "The purpose is now at version %(version)s; members have been told.",
            version=str(version),
        ),
    )
    raise redirect(f"/c/{s.community.handle}/purpose")


@routes.get(r"/c/{handle}/purpose/{version:\d+}")
async def purpose_version_page(request: web.Request) -> web.Response:
    """One version of the purpose (its ActivityPub id resolves here in a browser)."""
    ctx = request.app[CTX]
    number = int(request.match_info["version"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        versions = await purpose.history(conn, s.community.id)
    version = next((v for v in versions if v.version == number), None)
    if version is None:
        raise NotFound(
            Message(
                "%(name)s has no purpose version %(version)s",
                name=s.community.name,
                version=str(number),
            )
        )
    return await render(
        request,
        "community_purpose_version.html",
        v=version,
        latest=versions[0].version,
        **s.template_vars(),
    )


@routes.get("/c/{handle}/members")
async def members_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        people = await communities.members(conn, ctx, s.viewer, s.community)
        managers = {m.id for m in await communities.managers(conn, ctx, s.community.id)}
    return await render(
        request, "community_members.html", members=people, manager_ids=managers, **s.template_vars()
    )


async def _manage_scope(request: web.Request) -> Scope:
    user = await require_user(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        await communities.require_manager(conn, s.community.id, user.id)
    return s


async def _manage_page(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    s = await _manage_scope(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        requests_ = await communities.join_requests(conn, ctx, s.community)
        managers = await communities.managers(conn, ctx, s.community.id)
        pending_roles = [r for r in await roles.roles_of(conn, s.community.id) if r.requested]
    return await render(
        request,
        "community_manage.html",
        status=status,
        join_requests=requests_,
        managers=managers,
        pending_roles=pending_roles,
        errors=errors or {},
        values=values or {},
        **s.template_vars(),
    )


@routes.get("/c/{handle}/manage")
async def manage_page(request: web.Request) -> web.Response:
    return await _manage_page(request)


@routes.post("/c/{handle}/manage/requests")
async def decide_request(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    actor_id = int_or_none(data.get("actor_id"), "actor_id")
    if actor_id is None:
        raise web.HTTPBadRequest(text="which request?")
    if data.get("decision") == "approve":
        await communities.approve_join(ctx, user.id, s.community.id, actor_id)
        flash(request, "Request approved: welcome to the new member.")
    else:
        await communities.reject_join(ctx, user.id, s.community.id, actor_id)
        flash(request, "Request declined.")
    raise redirect(f"/c/{s.community.handle}/manage")


@routes.post("/c/{handle}/manage/{what:managers|members}")
async def add_person(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    what = request.match_info["what"]
    field = f"{what}_username"
    username = str(data.get(field, ""))
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        if what == "members":
            await communities.add_member(ctx, user.id, s.community.id, username)
        else:
            async with ctx.db.read() as conn:
                actor_id = await actor_id_by_username(conn, username)
            await communities.add_manager(ctx, user.id, s.community.id, actor_id)
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _manage_page(
            request, status=exc.status, errors={field: exc.message}, values={field: username}
        )
    name = username.lstrip("@")
    if what == "members":
        flash(request, Message("@%(username)s is now a member.", username=name))
    else:
        flash(request, Message("@%(username)s is now a manager.", username=name))
    raise redirect(f"/c/{s.community.handle}/manage")


@routes.post("/c/{handle}/manage/managers/remove")
async def remove_manager(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    actor_id = int_or_none(data.get("actor_id"), "actor_id")
    if actor_id is None:
        raise web.HTTPBadRequest(text="which manager?")
    await communities.remove_manager(ctx, user.id, s.community.id, actor_id)
    flash(request, "You stepped down as manager." if actor_id == user.id else "Manager removed.")
    raise redirect(
        f"/c/{s.community.handle}" if actor_id == user.id else f"/c/{s.community.handle}/manage"
    )
