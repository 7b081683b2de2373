"""Koers API: competencies — read and replace your own, and find people by competency."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import authenticate, user_auth
from server.api.koers.params import check_chars, json_body, limit, query_choice, query_id
from server.api.koers.serialize import row_account_json
from server.errors import BadRequest, ValidationError
from server.keys import CTX
from server.services import accounts, directory

PREFIX = "/api/koers/v1"
routes = web.RouteTableDef()
MAX_QUERY = 100


async def _own(request: web.Request, actor_id: int) -> web.Response:
    async with request.app[CTX].db.read() as conn:
        rows = await accounts.competencies_of(conn, actor_id)
    return web.json_response([{"name": r.name, "level": r.level} for r in rows])


@routes.get(PREFIX + "/competencies")
async def own(request: web.Request) -> web.Response:
    """The caller's competencies, by name."""
    auth = await user_auth(request, "read")
    return await _own(request, auth.need_user())


def _entries(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    value = body.get("competencies")
    if not isinstance(value, list):
        raise ValidationError(
            "competencies: a list of {name, level} objects is required", field="competencies"
        )
    if len(value) > accounts.MAX_COMPETENCIES:
        raise ValidationError(
            f"at most {accounts.MAX_COMPETENCIES} competencies", field="competencies"
        )
    out: list[tuple[str, str | None]] = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValidationError(
                "competencies: each needs a name (a string)", field="competencies"
            )
        level = entry.get("level")
        if level is not None and not isinstance(level, str):
            raise ValidationError("competencies: a level is a string or null", field="competencies")
        out.append(
            (
                check_chars(entry["name"], "competencies"),
                check_chars(level, "competencies") if level else level,
            )
        )
    return out


@routes.put(PREFIX + "/competencies")
async def replace(request: web.Request) -> web.Response:
    """Replace the caller's competencies with the given list."""
    auth = await user_auth(request, "write")
    entries = _entries(await json_body(request))
    me = auth.need_user()
    await accounts.set_competencies(request.app[CTX].db, me, entries)
    return await _own(request, me)


@routes.get(PREFIX + "/people")
async def people(request: web.Request) -> web.Response:
    """Discoverable people with a competency (prefix match), experts first."""
    await authenticate(request, "read", required=False)
    query = request.query.get("competency", "")
    if not query.strip():
        raise BadRequest("competency: say which competency to look for")
    if len(query) > MAX_QUERY:
        raise ValidationError(f"competency: at most {MAX_QUERY} characters", field="competency")
    check_chars(query, "competency")
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        rows = await accounts.people_with_competency(
            conn, query, limit=limit(request, default=40, maximum=80)
        )
    return web.json_response(
        [
            {
                **row_account_json(r, ctx.base, ctx.settings.domain),
                "competency": r.competency,
                "level": r.level,
            }
            for r in rows
        ]
    )


@routes.get(PREFIX + "/directory")
async def directory_people(request: web.Request) -> web.Response:
    """The member directory (``services.directory``), with the web page's filters."""
    auth = await authenticate(request, "read", required=False)
    args = request.query
    texts = {}
    for name, most in (("q", 100), ("competency", 100), ("organisation", 255)):
        value = args.get(name, "")
        if len(value) > most:
            raise ValidationError(f"{name}: at most {most} characters", field=name)
        texts[name] = check_chars(value, name) if value else ""
    page = query_id(request, "page")
    page = 1 if page is None and "page" not in args else page or 0
    if not 1 <= page <= directory.MAX_PAGE:
        raise BadRequest(f"page: from 1 to {directory.MAX_PAGE}")
    query = directory.DirectoryQuery(
        name=texts["q"],
        competency=texts["competency"],
        level=query_choice(request, "level", directory.LEVELS) or "",
        community_id=query_id(request, "community_id"),
        role_id=query_id(request, "role_id"),
        organisation=texts["organisation"],
        page=page,
    )
    ctx = request.app[CTX]
    async with ctx.db.read() as conn:
        rows, _more = await directory.find(conn, auth.viewer, query)
    return web.json_response(
        [
            {
                **row_account_json(r, ctx.base, ctx.settings.domain),
                "competency": r._mapping.get("competency"),
                "level": r._mapping.get("level"),
            }
            for r in rows
        ]
    )
