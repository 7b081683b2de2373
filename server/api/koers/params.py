"""Reading Koers API input: path ids, JSON bodies and query parameters, with clear 4xx errors.

Handlers check the *shape* of input here (types, presence, id ranges); the services check the
rules (lengths, who may do what). Nothing is written until both have passed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation import jsonload
from server.errors import BadRequest, NotFound, ValidationError

# Database ids are signed 64-bit integers; anything larger cannot name a row.
MAX_ID = 2**63 - 1
MAX_BODY = 256 * 1024


def path_id(request: web.Request, name: str = "id") -> int:
    """An integer id from the URL; an impossible id is simply not found."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID or int(raw) == 0:
        raise NotFound(f"no such {name.removesuffix('_id')}")
    return int(raw)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (an empty body counts as ``{}``)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ValidationError(f"the request body is larger than {MAX_BODY} bytes")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ValidationError(f"the request body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        body = jsonload.load(raw, max_bytes=MAX_BODY)
    except jsonload.JSONRefused as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc.message}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def text(
    body: dict[str, Any], name: str, *, required: bool = False, default: str = "", max_len: int
) -> str:
    """A string field; oversized text is a 422 naming the field."""
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name}: this field is required", field=name)
        return default
    if not isinstance(value, str):
        raise ValidationError(f"{name}: must be a string", field=name)
    if len(value) > max_len:
        raise ValidationError(f"{name}: at most {max_len} characters", field=name)
    check_chars(value, name)
    return value


def check_chars(value: str, name: str) -> str:
    """Refuse NUL characters: no text column stores them (PostgreSQL rejects them outright)."""
    if "\x00" in value:
        raise ValidationError(f"{name}: must not contain NUL characters", field=name)
    return value


def optional_id(body: dict[str, Any], name: str) -> int | None:
    """An optional id field: a positive integer or a string of digits (Mastodon ids are strings)."""
    value = body.get(name)
    if value is None:
        return None
    return _as_id(value, name)


def required_id(body: dict[str, Any], name: str) -> int:
    """A required id field."""
    value = optional_id(body, name)
    if value is None:
        raise ValidationError(f"{name}: this field is required", field=name)
    return value


def id_list(body: dict[str, Any], name: str, *, max_items: int = 20) -> tuple[int, ...]:
    """A list of ids (possibly empty)."""
    value = body.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError(f"{name}: must be a list of ids", field=name)
    if len(value) > max_items:
        raise ValidationError(f"{name}: at most {max_items} ids", field=name)
    return tuple(dict.fromkeys(_as_id(v, name) for v in value))


def choice(
    body: dict[str, Any],
    name: str,
    allowed: tuple[str, ...],
    *,
    default: str | None = None,
    required: bool = False,
) -> str | None:
    """A string that must be one of ``allowed``."""
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(
                f"{name}: this field is required (one of {', '.join(allowed)})", field=name
            )
        return default
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"{name}: one of {', '.join(allowed)}", field=name)
    return value


def _as_id(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{name}: must be an id", field=name)
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    raise ValidationError(f"{name}: must be an id (a positive integer)", field=name)


def limit(request: web.Request, *, default: int = 20, maximum: int = 40) -> int:
    """``?limit=`` clamped to 1..maximum; garbage (or more than one) is a 400."""
    if len(request.query.getall("limit", [])) > 1:
        raise BadRequest("limit: give it once")
    raw = request.query.get("limit")
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest("limit: must be a positive integer")
    return max(1, min(int(raw[:6]), maximum))


def query_choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    """An optional ``?name=`` that must be one of ``allowed``; empty or anything else is a 400."""
    values = request.query.getall(name, [])
    if not values:
        return None
    if len(values) > 1 or values[0] not in allowed:
        raise BadRequest(f"{name}: one of {', '.join(allowed)}")
    return values[0]


def query_id(request: web.Request, name: str) -> int | None:
    """An optional id in the query string (``max_id`` …); garbage (an empty value too) is a 400."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        raise BadRequest(f"{name}: must be an id")
    return int(raw)
