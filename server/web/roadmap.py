"""Roadmap pages (columns by status, one item with its history and linked results) and the
community's results: the list with filters and the "Publish a result" form."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import KoersError, ValidationError
from server.http.pages import flash, form, redirect, render, require_user
from server.http.params import as_id
from server.i18n import N_, gettext
from server.i18n.current import Lazy
from server.i18n.messages import Message
from server.keys import CTX
from server.services import (
    initiatives,
    matching,
    posts,
    purpose,
    roadmap,
    roadmap_social,
    roles,
    timelines,
)
from server.services.views import load_posts
from server.visibility import ITEM_AUDIENCES, Audience
from server.web.cards import audience_choices
from server.web.communities import community_page_response
from server.web.community_scope import int_or_none, scope
from server.web.forms import field_errors
from server.web.home import page_from_query

routes = web.RouteTableDef()

NONE = Lazy(lambda: gettext("— none —"))  # the empty choice of a select, in the page's language
ITEM_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "status": N_("Status"),
    "owner_role_id": N_("Owner role"),
    "audience": N_("Who can see it"),
    "purpose_version": N_("Serves purpose version"),
    "target_date": N_("Target date"),
    "note": N_("Note"),
}
# The audience choices of an item form (roadmap items, initiatives, events), in the module's order.
ITEM_AUDIENCE_OPTIONS = audience_choices(a.value for a in ITEM_AUDIENCES)


@routes.get("/c/{handle}/roadmap")
async def roadmap_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        items = await roadmap.items(conn, s.viewer, s.community.id)
        changes = await roadmap.recent_changes(conn, s.viewer, s.community.id, limit=15)
        supports = await roadmap_social.support_counts(conn, [i.id for i in items])
    return await render(
        request,
        "roadmap.html",
        columns=roadmap.by_status(items),
        timeline=roadmap.by_target(items),
        view="timeline" if request.query.get("view") == "timeline" else "board",
        labels=roadmap.STATUS_LABELS,
        changes=changes,
        supports=supports,
        **s.template_vars(),
    )


async def _new_item_page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    await require_user(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        all_roles = await roles.roles_of(conn, s.community.id)
        versions = await purpose.history(conn, s.community.id)
    extra.setdefault("values", {"status": "idea", "audience": "public"})
    extra.setdefault("errors", {})
    return await render(
        request,
        "roadmap_new.html",
        status=status,
        labels=roadmap.STATUS_LABELS,
        role_options=[("", NONE), *[(str(r.id), r.name) for r in all_roles]],
        version_options=[
            ("", NONE),
            *[(str(v.version), Message("Version %(num)s", num=v.version)) for v in versions],
        ],
        audience_options=ITEM_AUDIENCE_OPTIONS,
        field_labels=ITEM_LABELS,
        **s.template_vars(),
        **extra,
    )


@routes.get("/c/{handle}/roadmap/new")
async def new_item_page(request: web.Request) -> web.Response:
    return await _new_item_page(request)


@routes.post("/c/{handle}/roadmap/new")
async def new_item_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {
        k: str(data.get(k, ""))
        for k in (
            "title",
            "description",
            "status",
            "owner_role_id",
            "audience",
            "purpose_version",
            "target_date",
        )
    }
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        item_id = await roadmap.create_item(
            ctx,
            user.id,
            s.community.id,
            title=values["title"],
            description=values["description"],
            status=values["status"] or "idea",
            owner_role_id=int_or_none(values["owner_role_id"], "owner_role_id"),
            audience=values["audience"] or "public",
            purpose_version=int_or_none(values["purpose_version"], "purpose_version"),
            target_date=values["target_date"],
        )
    except KoersError as exc:
        if (errors := field_errors(exc)) is None:
            raise
        return await _new_item_page(request, status=exc.status, values=values, errors=errors)
    flash(request, "Added to the roadmap.")
    raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}")


async def _item_page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        item = await roadmap.get_item(conn, s.viewer, s.community.id, item_id)
        changes = await roadmap.history(conn, item.id)
        ids = await timelines.community(
            conn, s.viewer, s.community.id, timelines.Page(limit=40), roadmap_item_id=item.id
        )
        results = await load_posts(
            conn, s.viewer, ids, base=ctx.base, local_domain=ctx.settings.domain
        )
        may_change = await roadmap.may_change(conn, item, s.me)
        standing = await roadmap_social.standing(conn, item.id, s.me)
        # who can help: people with the competencies the owner role needs
        needs = await matching.role_needs(conn, item.owner_role_id) if item.owner_role_id else []
        helpers = await matching.who_can_help(conn, s.viewer, s.community.id, needs)
        lead = await initiatives.lead_of(conn, item)
        joined = await initiatives.participants(conn, item.id) if lead else []
    extra.setdefault("errors", {})
    extra.setdefault("values", {})
    return await render(
        request,
        "roadmap_item.html",
        status=status,
        item=item,
        changes=changes,
        results=results,
        may_change=may_change,
        standing=standing,
        labels=roadmap.STATUS_LABELS,
        field_labels=ITEM_LABELS,
        helpers=helpers,
        lead=lead,
        participants=joined,
        **s.template_vars(),
        **extra,
    )


@routes.get(r"/c/{handle}/roadmap/{item_id:\d+}")
async def item_page(request: web.Request) -> web.Response:
    return await _item_page(request)


@routes.post(r"/c/{handle}/roadmap/{item_id:\d+}/status")
async def item_status_submit(request: web.Request) -> web.Response:
    """The item page's "Change the item" form: its status and target date (blank clears it)."""
    user = await require_user(request)
    data = await form(request)
    values = {k: str(data.get(k, "")) for k in ("status", "note", "target_date")}
    ctx = request.app[CTX]
    item_id = int(request.match_info["item_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        item = await roadmap.get_item(conn, s.viewer, s.community.id, item_id)
    try:
        await roadmap.edit_item(
            ctx,
            user.id,
            item_id,
            status=values["status"],
            note=values["note"],
            target_date=values["target_date"] if "target_date" in data else roadmap.KEEP,
        )
    except KoersError as exc:
        if (errors := field_errors(exc)) is None:
            raise
        return await _item_page(request, status=exc.status, values=values, errors=errors)
    if values["status"] != item.status:
        flash(
            request,
            Message("The status is now: %(status)s.", status=roadmap.label(values["status"])),
        )
    else:
        flash(request, "The target date is changed.")
    raise redirect(f"/c/{s.community.handle}/roadmap/{item_id}")


@routes.get("/c/{handle}/results")
async def results_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    role_id = request.query.get("role", "")
    item_id = request.query.get("item", "")
    page = page_from_query(request)
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        ids = await timelines.community(
            conn,
            s.viewer,
            s.community.id,
            page,
            only_results=True,
            role_id=as_id(role_id),
            roadmap_item_id=as_id(item_id),
        )
        results = await load_posts(
            conn, s.viewer, ids, base=ctx.base, local_domain=ctx.settings.domain
        )
        all_roles = await roles.roles_of(conn, s.community.id)
        items = await roadmap.items(conn, s.viewer, s.community.id)
    query = "&".join(
        f"{k}={v}" for k, v in (("role", role_id), ("item", item_id)) if as_id(v) is not None
    )
    next_url = (
        f"/c/{s.community.handle}/results?{query + '&' if query else ''}max_id={ids[-1]}"
        if len(ids) == page.clamp().limit
        else None
    )
    return await render(
        request,
        "results.html",
        results=results,
        roles=all_roles,
        roadmap_items=items,
        role_id=role_id,
        item_id=item_id,
        next_url=next_url,
        **s.template_vars(),
    )


@routes.post("/c/{handle}/results")
async def publish_result(request: web.Request) -> web.Response:
    """The community page's "Publish a result" form."""
    user = await require_user(request)
    data = await form(request)
    values: dict[str, Any] = {
        k: str(data.get(k, "")) for k in ("title", "text", "roadmap_item_id", "audience")
    }
    values["role_ids"] = [str(v) for v in data.getall("role_ids", [])]
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        try:
            audience = Audience.parse(values["audience"] or "public")
        except ValueError as exc:
            raise ValidationError(str(exc), field="audience") from None
        role_ids = tuple(int_or_none(v, "role_ids") for v in values["role_ids"])
        draft = posts.Draft(
            source=values["text"],
            kind="result",
            title=values["title"].strip() or None,
            audience=audience,
            community_id=s.community.id,
            roadmap_item_id=int_or_none(values["roadmap_item_id"], "roadmap_item_id"),
            role_ids=tuple(r for r in role_ids if r is not None),
        )
        await posts.create_post(ctx, user.id, draft)
    except KoersError as exc:
        if (found := field_errors(exc)) is None:
            raise
        errors = {{"status": "text"}.get(k, k): v for k, v in found.items()}  # the post's text
        return await community_page_response(
            request, errors=errors, values=values, status=exc.status
        )
    flash(request, "Result published. Thank you for reporting back!")
    raise redirect(f"/c/{s.community.handle}/results")
