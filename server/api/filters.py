"""``/api/v2/filters`` (filters with keywords and statuses) and ``/api/v1/filters`` (one keyword each).

Mastodon's v1 filter is a view of a v2 keyword: its id is the keyword's id, its phrase the keyword.
Creating a v1 filter creates a v2 filter holding that one keyword, titled by it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import clock
from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, path_id
from server.errors import NotFound, ValidationError
from server.services import filters
from server.services.filters import Filter, KeywordChange
from server.visibility import can_see_post

routes = web.RouteTableDef()
ID = r"{id:\d+}"


def filter_json(f: Filter) -> dict[str, Any]:
    """The Mastodon ``Filter`` entity."""
    return {
        "id": str(f.id),
        "title": f.title,
        "context": f.context,
        "filter_action": f.action,
        "expires_at": clock.iso(f.expires_at) if f.expires_at else None,
        "keywords": [keyword_json(k) for k in f.keywords],
        "statuses": [{"id": str(row), "status_id": str(post)} for row, post in f.statuses],
    }


def keyword_json(k: filters.Keyword) -> dict[str, Any]:
    """The Mastodon ``FilterKeyword`` entity."""
    return {"id": str(k.id), "keyword": k.keyword, "whole_word": k.whole_word}


def v1_json(f: Filter, k: filters.Keyword) -> dict[str, Any]:
    """The Mastodon ``V1::Filter`` entity of one keyword."""
    return {
        "id": str(k.id),
        "phrase": k.keyword,
        "context": f.context,
        "whole_word": k.whole_word,
        "expires_at": clock.iso(f.expires_at) if f.expires_at else None,
        "irreversible": f.action == "hide",
    }


def _flag(value: str | None) -> bool | None:
    return None if value is None or value == "" else params.truthy(value)


def _keyword_changes(p: params.Params) -> list[KeywordChange]:
    out = []
    for group in p.indexed("keywords_attributes"):
        raw_id = group.get("id")
        if raw_id and not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 18):
            raise ValidationError(
                "keywords_attributes: not a valid id", field="keywords_attributes"
            )
        out.append(
            KeywordChange(
                keyword=group.get("keyword"),
                whole_word=_flag(group.get("whole_word")),
                id=int(raw_id) if raw_id else None,
                destroy=bool(_flag(group.get("_destroy"))),
            )
        )
    return out


def _expires_in(p: params.Params) -> tuple[int | None, bool]:
    """(seconds, clear): an empty ``expires_in`` removes the expiry."""
    if "expires_in" in p and (p.str("expires_in") or "") == "":
        return None, True
    return p.int("expires_in", minimum=1), False


async def _show(request: web.Request, actor_id: int, filter_id: int) -> web.Response:
    async with ctx(request).db.read() as conn:
        return json(filter_json(await filters.get(conn, actor_id, filter_id)))


@routes.get("/api/v2/filters")
async def list_filters(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    async with ctx(request).db.read() as conn:
        return json([filter_json(f) for f in await filters.filters_of(conn, auth.actor_id)])


@routes.get(f"/api/v2/filters/{ID}")
async def get_filter(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    return await _show(request, auth.actor_id, path_id(request))


@routes.post("/api/v2/filters")
async def create_filter(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    seconds, _ = _expires_in(p)
    filter_id = await filters.create(
        ctx(request),
        auth.actor_id,
        title=p.str("title") or "",
        context=p.list("context"),
        action=p.str("filter_action"),
        expires_in=seconds,
        keywords=_keyword_changes(p),
    )
    return await _show(request, auth.actor_id, filter_id)


@routes.put(f"/api/v2/filters/{ID}")
async def update_filter(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    seconds, clear = _expires_in(p)
    await filters.update(
        ctx(request),
        auth.actor_id,
        path_id(request),
        title=p.str("title"),
        context=p.list("context") or None,
        action=p.str("filter_action"),
        expires_in=seconds,
        clear_expiry=clear,
        keywords=_keyword_changes(p),
    )
    return await _show(request, auth.actor_id, path_id(request))


@routes.delete(f"/api/v2/filters/{ID}")
async def delete_filter(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    await filters.delete(ctx(request), auth.actor_id, path_id(request))
    return json({})


@routes.get(f"/api/v2/filters/{ID}/keywords")
async def list_keywords(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    async with ctx(request).db.read() as conn:
        f = await filters.get(conn, auth.actor_id, path_id(request))
    return json([keyword_json(k) for k in f.keywords])


@routes.post(f"/api/v2/filters/{ID}/keywords")
async def add_keyword(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    change = KeywordChange(keyword=p.str("keyword"), whole_word=p.bool("whole_word"))
    await filters.update(ctx(request), auth.actor_id, path_id(request), keywords=[change])
    async with ctx(request).db.read() as conn:
        f = await filters.get(conn, auth.actor_id, path_id(request))
    return json(keyword_json(f.keywords[-1]))


async def _keyword(request: web.Request, actor_id: int) -> tuple[Filter, filters.Keyword]:
    keyword_id = path_id(request)
    async with ctx(request).db.read() as conn:
        f = await filters.get(
            conn, actor_id, await filters.keyword_owner(conn, actor_id, keyword_id)
        )
    return f, next(k for k in f.keywords if k.id == keyword_id)


@routes.get(f"/api/v2/filters/keywords/{ID}")
async def get_keyword(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    return json(keyword_json((await _keyword(request, auth.actor_id))[1]))


@routes.put(f"/api/v2/filters/keywords/{ID}")
async def update_keyword(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    f, k = await _keyword(request, auth.actor_id)
    await filters.update(
        ctx(request),
        auth.actor_id,
        f.id,
        keywords=[
            KeywordChange(id=k.id, keyword=p.str("keyword"), whole_word=p.bool("whole_word"))
        ],
    )
    return json(keyword_json((await _keyword(request, auth.actor_id))[1]))


@routes.delete(f"/api/v2/filters/keywords/{ID}")
async def delete_keyword(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    f, k = await _keyword(request, auth.actor_id)
    await filters.update(
        ctx(request), auth.actor_id, f.id, keywords=[KeywordChange(id=k.id, destroy=True)]
    )
    return json({})


@routes.get(f"/api/v2/filters/{ID}/statuses")
async def list_statuses(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    async with ctx(request).db.read() as conn:
        f = await filters.get(conn, auth.actor_id, path_id(request))
    return json([{"id": str(row), "status_id": str(post)} for row, post in f.statuses])


@routes.post(f"/api/v2/filters/{ID}/statuses")
async def add_status(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    post_id = p.id("status_id")
    async with ctx(request).db.read() as conn:
        if post_id is None or not await can_see_post(conn, auth.viewer, post_id):
            raise NotFound("Record not found")
    row = await filters.add_status(ctx(request), auth.actor_id, path_id(request), post_id)
    return json({"id": str(row), "status_id": str(post_id)})


@routes.get(f"/api/v2/filters/statuses/{ID}")
async def get_status(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    async with ctx(request).db.read() as conn:
        _, post = await filters.status_owner(conn, auth.actor_id, path_id(request))
    return json({"id": str(path_id(request)), "status_id": str(post)})


@routes.delete(f"/api/v2/filters/statuses/{ID}")
async def delete_status(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    await filters.remove_status(ctx(request), auth.actor_id, path_id(request))
    return json({})


# --- v1: one keyword each ---------------------------------------------------------------------


async def _v1_all(request: web.Request, actor_id: int) -> list[dict[str, Any]]:
    async with ctx(request).db.read() as conn:
        return [v1_json(f, k) for f in await filters.filters_of(conn, actor_id) for k in f.keywords]


@routes.get("/api/v1/filters")
async def v1_list(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    return json(await _v1_all(request, auth.actor_id))


@routes.get(f"/api/v1/filters/{ID}")
async def v1_get(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:filters")
    f, k = await _keyword(request, auth.actor_id)
    return json(v1_json(f, k))


@routes.post("/api/v1/filters")
async def v1_create(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    phrase = (p.str("phrase") or "").strip()
    if not phrase:
        raise ValidationError("phrase: required", field="phrase")
    seconds, _ = _expires_in(p)
    filter_id = await filters.create(
        ctx(request),
        auth.actor_id,
        title=phrase[: filters.MAX_TITLE],
        context=p.list("context"),
        action="hide" if p.bool("irreversible") else "warn",
        expires_in=seconds,
        keywords=[KeywordChange(keyword=phrase, whole_word=p.bool("whole_word", True))],
    )
    async with ctx(request).db.read() as conn:
        f = await filters.get(conn, auth.actor_id, filter_id)
    return json(v1_json(f, f.keywords[0]))


@routes.put(f"/api/v1/filters/{ID}")
async def v1_update(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    p = await params.read(request)
    f, k = await _keyword(request, auth.actor_id)
    seconds, clear = _expires_in(p)
    irreversible = p.bool("irreversible")
    await filters.update(
        ctx(request),
        auth.actor_id,
        f.id,
        context=p.list("context") or None,
        action=None if irreversible is None else ("hide" if irreversible else "warn"),
        expires_in=seconds,
        clear_expiry=clear,
        keywords=[KeywordChange(id=k.id, keyword=p.str("phrase"), whole_word=p.bool("whole_word"))],
    )
    f, k = await _keyword(request, auth.actor_id)
    return json(v1_json(f, k))


@routes.delete(f"/api/v1/filters/{ID}")
async def v1_delete(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:filters")
    f, k = await _keyword(request, auth.actor_id)
    if len(f.keywords) == 1 and not f.statuses:
        await filters.delete(ctx(request), auth.actor_id, f.id)
    else:
        await filters.update(
            ctx(request), auth.actor_id, f.id, keywords=[KeywordChange(id=k.id, destroy=True)]
        )
    return json({})
