"""The idea box pages: a community's ideas by support, one idea with its thread, and the forms to
submit, support, merge, decline, promote, and call for ideas."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import KoersError, NotFound, ValidationError
from server.http.pages import flash, form, redirect, render, require_user
from server.i18n import N_
from server.i18n.current import Labels
from server.keys import CTX
from server.services import community_lists, idea_outcomes, ideas, timelines, views
from server.web.community_scope import int_or_none, scope
from server.web.forms import field_errors

routes = web.RouteTableDef()
STATUS_LABELS = Labels(
    {
        "open": N_("Open"),
        "merged": N_("Merged"),
        "promoted": N_("Taken up"),
        "declined": N_("Declined"),
    }
)

FIELD_LABELS = {
    "title": N_("Your idea in one line"),
    "text": N_("More about it"),
    "audience": N_("Who can see it"),
    "call": N_("Your question to everyone"),
    "into_id": N_("Keep this idea instead"),
    "owner_role_id": N_("Owner role"),
    "new_text": N_("The purpose as it would read"),
    "reason": N_("Why"),
}


def _status_filter(request: web.Request) -> str | None:
    raw = request.query.get("status", "open")
    if raw == "all":
        return None
    if raw not in ideas.STATUSES:
        raise ValidationError("status: not a valid filter", field="status")
    return raw


async def _box(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> web.Response:
    ctx = request.app[CTX]
    chosen = _status_filter(request)
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        found = await ideas.list_ideas(conn, s.viewer, s.community.id, status=chosen)
    return await render(
        request,
        "ideas.html",
        status=status,
        ideas=found,
        chosen=chosen or "all",
        labels=STATUS_LABELS,
        errors=errors or {},
        values=values or {"audience": "public"},
        field_labels=FIELD_LABELS,
        **s.template_vars(),
    )


@routes.get("/c/{handle}/ideas")
async def idea_box(request: web.Request) -> web.Response:
    return await _box(request)


@routes.post("/c/{handle}/ideas")
async def submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in ("title", "text", "audience")}
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        idea_id = await ideas.submit_idea(
            ctx,
            user.id,
            s.community.id,
            title=values["title"],
            description=values["text"],
            audience=values["audience"] or "public",
        )
    except KoersError as exc:
        if (errors := field_errors(exc)) is None:
            raise
        return await _box(request, status=exc.status, errors=errors, values=values)
    flash(request, "Thank you: your idea is in the idea box.")
    raise redirect(f"/c/{s.community.handle}/ideas/{idea_id}")


@routes.post("/c/{handle}/ideas/call")
async def call(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        post_id = await ideas.call_for_ideas(
            ctx, user.id, s.community.id, str(data.get("call", ""))
        )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _box(
            request,
            status=exc.status,
            errors={"call": exc.message},
            values={"call": str(data.get("call", ""))},
        )
    flash(
        request, "Your call for ideas is posted: replies to it from anyone arrive in the idea box."
    )
    raise redirect(f"/@{user.username}/{post_id}")


async def _idea_page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    ctx = request.app[CTX]
    idea_id = int(request.match_info["idea_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        idea = await ideas.get_idea(conn, s.viewer, idea_id)
        if idea.community_id != s.community.id:
            raise NotFound("no such idea in this community")
        thread: list = []
        if idea.post_id is not None:
            _, below = await timelines.thread(conn, s.viewer, idea.post_id)
            ids = [idea.post_id, *below]
            thread = await views.load_posts(
                conn, s.viewer, ids, base=ctx.base, local_domain=ctx.settings.domain
            )
        others = [
            i
            for i in await ideas.list_ideas(conn, s.viewer, s.community.id, status="open")
            if i.id != idea.id
        ]
        community_roles = await community_lists.role_choices(conn, s.community.id)
    extra.setdefault("errors", {})
    extra.setdefault("values", {})
    return await render(
        request,
        "idea.html",
        status=status,
        idea=idea,
        thread=thread,
        others=others,
        role_choices=[("", "— none —"), *community_roles],
        merge_choices=[("", "— choose —"), *((str(o.id), o.title) for o in others)],
        labels=STATUS_LABELS,
        field_labels=FIELD_LABELS,
        **s.template_vars(),
        **extra,
    )


@routes.get(r"/c/{handle}/ideas/{idea_id:\d+}")
async def idea_page(request: web.Request) -> web.Response:
    return await _idea_page(request)


@routes.post(
    r"/c/{handle}/ideas/{idea_id:\d+}/{action:support|unsupport|decline|merge|promote|propose}"
)
async def idea_action(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    idea_id = int(request.match_info["idea_id"])
    action = request.match_info["action"]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        idea = await ideas.get_idea(conn, s.viewer, idea_id)
    if idea.community_id != s.community.id:
        raise NotFound("no such idea in this community")
    values = {k: str(data.get(k, "")) for k in ("into_id", "owner_role_id", "new_text", "reason")}
    try:
        if action == "support":
            await ideas.support(ctx, user.id, idea_id)
        elif action == "unsupport":
            await ideas.unsupport(ctx, user.id, idea_id)
        elif action == "decline":
            await idea_outcomes.decline(ctx, user.id, idea_id)
        elif action == "merge":
            into = int_or_none(values["into_id"], "into_id")
            if into is None:
                raise ValidationError("choose the idea to keep", field="into_id")
            await idea_outcomes.merge(ctx, user.id, idea_id, into)
        elif action == "propose":
            proposal_id = await idea_outcomes.promote_to_proposal(
                ctx, user.id, idea_id, new_text=values["new_text"], reason=values["reason"]
            )
            flash(request, "The idea is now a proposal for the purpose; its author has been told.")
            raise redirect(f"/c/{s.community.handle}/purpose/proposals/{proposal_id}")
        else:
            item_id = await idea_outcomes.promote_to_roadmap(
                ctx,
                user.id,
                idea_id,
                owner_role_id=int_or_none(values["owner_role_id"], "owner_role_id"),
            )
            flash(request, "The idea is now on the roadmap; its author has been told.")
            raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}")
    except KoersError as exc:
        if exc.field is None:
            raise
        errors = {  # the purpose text is "text" to the purpose service, "new_text" here
            ("new_text" if action == "propose" and name == "text" else name): message
            for name, message in (field_errors(exc) or {}).items()
        }
        return await _idea_page(request, status=exc.status, errors=errors, values=values)
    raise redirect(f"/c/{s.community.handle}/ideas/{idea_id}")
