"""Role pages: a role with its holders and matching members, defining roles, and taking them on."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import KoersError
from server.http.pages import flash, form, redirect, render, require_user
from server.i18n.messages import Message
from server.keys import CTX
from server.services import communities, matching, role_terms, roles
from server.services.people import actor_id_by_username
from server.web.cards import safe_back
from server.web.community_scope import form_error, int_or_none, scope
from server.web.forms import field_errors

routes = web.RouteTableDef()


def _parse_competencies(raw: str) -> list[tuple[str, str | None]]:
    """``name`` or ``name:level`` separated by commas or lines."""
    out: list[tuple[str, str | None]] = []
    for part in raw.replace("\n", ",").split(","):
        name, _, level = part.partition(":")
        if name.strip():
            out.append((name, level or None))
    return out


async def _role_page(request: web.Request, *, status: int = 200, **extra: Any) -> web.Response:
    ctx = request.app[CTX]
    role_id = int(request.match_info["role_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        role = await roles.get_role(conn, s.community.id, role_id)
        # Members are only listed to those who may see the member list (matching decides).
        helpers = await matching.who_can_help(
            conn, s.viewer, s.community.id, [n for n, _ in role.competencies]
        )
    extra.setdefault("errors", {})
    extra.setdefault("values", {})
    mine = next((p.state for p in [*role.holders, *role.requested] if p.id == s.me), None)
    extra.setdefault("term_value", "" if role.term_days is None else str(role.term_days))
    up = {h.id for h in role.holders if role_terms.is_up(h.ends_at)}
    return await render(
        request,
        "role.html",
        status=status,
        role=role,
        helpers=helpers,
        my_state=mine,
        up_ids=up,
        **s.template_vars(),
        **extra,
    )


@routes.get("/c/{handle}/roles")
async def roles_page(request: web.Request) -> web.Response:
    """All roles of a local community, vacant ones first, each with its claim button."""
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        found = await roles.roles_of(conn, s.community.id)
    mine = {r.id: p.state for r in found for p in [*r.holders, *r.requested] if p.id == s.me}
    ordered = sorted(found, key=lambda r: (not r.vacant, not r.claimable, r.name.lower()))
    return await render(request, "roles.html", roles=ordered, my_states=mine, **s.template_vars())


@routes.get(r"/c/{handle}/roles/{role_id:\d+}")
async def role_page(request: web.Request) -> web.Response:
    return await _role_page(request)


@routes.get("/c/{handle}/roles/new")
async def new_role_page(request: web.Request) -> web.Response:
    user = await require_user(request)
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        await communities.require_manager(conn, s.community.id, user.id)
    return await render(
        request, "role_new.html", values={"fill_mode": "open"}, errors={}, **s.template_vars()
    )


@routes.post("/c/{handle}/roles/new")
async def new_role_submit(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    values = {
        k: str(data.get(k, ""))
        for k in ("name", "description", "competencies", "fill_mode", "term_days")
    }
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
    try:
        role_id = await roles.create_role(
            ctx,
            user.id,
            s.community.id,
            name=values["name"],
            description=values["description"],
            competencies=_parse_competencies(values["competencies"]),
            fill_mode=values["fill_mode"] or "open",
            term_days=values["term_days"].strip() or None,
        )
    except KoersError as exc:
        return await form_error(request, exc, "role_new.html", values=values, **s.template_vars())
    flash(request, Message("The role %(name)s is defined.", name=values["name"].strip()))
    raise redirect(f"/c/{s.community.handle}/roles/{role_id}")


@routes.post(r"/c/{handle}/roles/{role_id:\d+}/{action:claim|release}")
async def claim_or_release(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    role_id = int(request.match_info["role_id"])
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        await roles.get_role(conn, s.community.id, role_id)
    if request.match_info["action"] == "claim":
        state = await roles.claim_role(ctx, user.id, role_id)
        flash(
            request,
            "The role is yours."
            if state == "held"
            else "You asked for the role; a manager will decide.",
        )
    else:
        await roles.release_role(ctx, user.id, role_id)
        flash(request, "You gave up the role.")
    own_page = f"/c/{s.community.handle}/roles/{role_id}"
    raise redirect(safe_back(str(data.get("back") or ""), own_page))


@routes.post(r"/c/{handle}/roles/{role_id:\d+}/{action:assign|unassign}")
async def assign_or_unassign(request: web.Request) -> web.Response:
    user = await require_user(request)
    data = await form(request)
    ctx = request.app[CTX]
    role_id = int(request.match_info["role_id"])
    username = str(data.get("username", ""))
    async with ctx.db.read() as conn:
        s = await scope(request, conn)
        await roles.get_role(conn, s.community.id, role_id)
    try:
        async with ctx.db.read() as conn:
            actor_id = int_or_none(data.get("actor_id"), "username") or await actor_id_by_username(
                conn, username
            )
        if request.match_info["action"] == "assign":
            await roles.assign_role(ctx, user.id, role_id, actor_id)
            flash(request, "Role assigned.")
        else:
            await roles.unassign_role(ctx, user.id, role_id, actor_id)
            flash(
                request,
                "Role taken back." if data.get("decision") != "deny" else "Request declined.",
            )
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _role_page(
            request,
            status=exc.status,
            errors={"username": exc.message},
            values={"username": username},
        )
    raise redirect(f"/c/{s.community.handle}/roles/{role_id}")


async def _role_form(request: web.Request) -> tuple[Any, Any, str, int]:
    """The user, the checked form, the community handle and the role id of a POST to a role."""
    user = await require_user(request)
    data = await form(request)
    role_id = int(request.match_info["role_id"])
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
        await roles.get_role(conn, s.community.id, role_id)
    return user, data, s.community.handle, role_id


@routes.post(r"/c/{handle}/roles/{role_id:\d+}/term")
async def term_submit(request: web.Request) -> web.Response:
    """A manager sets or clears the role's term (days)."""
    user, data, handle, role_id = await _role_form(request)
    raw = str(data.get("term_days", ""))
    try:
        days = await role_terms.set_term(request.app[CTX], user.id, role_id, raw.strip() or None)
    except KoersError as exc:
        if exc.field is None:
            raise
        return await _role_page(
            request, status=exc.status, errors=field_errors(exc) or {}, term_value=raw
        )
    flash(
        request,
        f"Holdings of this role now last {days} days."
        if days
        else "This role no longer has a term.",
    )
    raise redirect(f"/c/{handle}/roles/{role_id}")


@routes.post(r"/c/{handle}/roles/{role_id:\d+}/renew")
async def renew_submit(request: web.Request) -> web.Response:
    """Renew a holding for a new term (managers; the holder of an open role for themselves)."""
    user, data, handle, role_id = await _role_form(request)
    holder = int_or_none(data.get("actor_id"), "actor_id") or user.id
    ends_at = await role_terms.renew(request.app[CTX], user.id, role_id, holder)
    flash(request, Message("Renewed until %(date)s.", date=ends_at))
    raise redirect(f"/c/{handle}/roles/{role_id}")
