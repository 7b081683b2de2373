"""Small helpers every API module uses: the context, JSON answers, ids in paths, Link paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from server.api.params import Params
from server.context import Context
from server.errors import NotFound
from server.keys import CTX
from server.services.timelines import Page


def ctx(request: web.Request) -> Context:
    return request.app[CTX]


def json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer, serialised by orjson (several times faster than ``json`` on a timeline).
    Keys that are not strings (a map by id) are written as strings; the option that allows them
    costs a fifth more on a timeline, so it is taken only when an answer needs it."""
    try:
        body = orjson.dumps(data)
    except TypeError:  # "Dict key must be str"
        body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return web.Response(
        body=body, status=status, headers=headers, content_type="application/json", charset="utf-8"
    )


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the URL path; anything else is a 404 (Mastodon answers the same)."""
    value = request.match_info.get(name, "")
    if not value.isdigit() or len(value) > 18:
        raise NotFound("Record not found")
    return int(value)


def page(params: Params, *, default: int = 20, maximum: int = 40) -> Page:
    """max_id / since_id / min_id / limit from the query (limit clamped to 1..maximum)."""
    limit = params.int("limit", default) or default
    return Page(
        max_id=params.id("max_id"),
        since_id=params.id("since_id"),
        min_id=params.id("min_id"),
        limit=max(1, min(limit, maximum)),
    )


def link_header(request: web.Request, ids: list[int], base_url: str) -> dict[str, str]:
    """``Link: <…max_id=oldest>; rel="next", <…min_id=newest>; rel="prev"`` for a page of ids."""
    if not ids:
        return {}
    query = [(k, v) for k, v in request.query.items() if k not in ("max_id", "min_id", "since_id")]
    url = base_url + request.path
    nxt = url + "?" + urlencode([*query, ("max_id", str(min(ids)))])
    prev = url + "?" + urlencode([*query, ("min_id", str(max(ids)))])
    return {"Link": f'<{nxt}>; rel="next", <{prev}>; rel="prev"'}
