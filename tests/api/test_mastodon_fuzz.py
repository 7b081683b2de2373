"""A bounded schemathesis run over the Mastodon API against a real instance: never a 5xx.

There is no OpenAPI document of Koers' Mastodon API to hold it to (Mastodon publishes none), so
the document here is drawn from the router: every ``/api/v1`` and ``/api/v2`` route and method,
its path parameters, the query parameters Mastodon's list endpoints take and a JSON body with the
fields Mastodon's write endpoints read (with anything else allowed). Without response schemas the
check is the server-error one only; a new route is fuzzed the day it is registered. Derandomised:
every run sends the same requests.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from server.services import posts
from server.services.posts import Draft
from tests.api.conftest import api_token
from tests.conftest import Instance
from tests.schemathesis_run import Variant, fuzz

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("KOERS_MASTODON_FUZZ_EXAMPLES", "6"))
STREAMING = "/api/v1/streaming"  # WebSocket upgrades and event streams that never end

_STR = {"type": "string"}
_ID = {"type": "string", "maxLength": 24}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
QUERY = {
    "limit": _INT,
    "max_id": _ID,
    "since_id": _ID,
    "min_id": _ID,
    "offset": _INT,
    "q": _STR,
    "type": _STR,
    "resolve": _BOOL,
    "local": _BOOL,
    "only_media": _BOOL,
    "account_id": _ID,
    "id[]": {"type": "array", "items": _ID},
    "types[]": {"type": "array", "items": _STR},
    "exclude_types[]": {"type": "array", "items": _STR},
}
BODY = {
    "type": "object",
    "properties": {
        "status": _STR,
        "spoiler_text": _STR,
        "visibility": {"enum": ["public", "unlisted", "private", "direct", "members", "x"]},
        "in_reply_to_id": _ID,
        "media_ids": {"type": "array", "items": _ID},
        "sensitive": _BOOL,
        "language": _STR,
        "scheduled_at": _STR,
        "poll": {
            "type": "object",
            "properties": {
                "options": {"type": "array", "items": _STR},
                "expires_in": _INT,
                "multiple": _BOOL,
            },
        },
        "choices": {"type": "array", "items": _INT},
        "title": _STR,
        "context": {"type": "array", "items": _STR},
        "irreversible": _BOOL,
        "whole_word": _BOOL,
        "expires_in": _INT,
        "account_ids": {"type": "array", "items": _ID},
        "status_ids": {"type": "array", "items": _ID},
        "comment": _STR,
        "category": _STR,
        "forward": _BOOL,
        "reblogs": _BOOL,
        "notify": _BOOL,
        "description": _STR,
        "focus": _STR,
        "display_name": _STR,
        "note": _STR,
        "locked": _BOOL,
        "bot": _BOOL,
        "discoverable": _BOOL,
        "fields_attributes": {"type": "object"},
        "subscription": {"type": "object"},
        "data": {"type": "object"},
        "replies_policy": _STR,
        "exclusive": _BOOL,
    },
}


def mastodon_document(routes: list[tuple[str, str]]) -> dict[str, Any]:
    """An OpenAPI 3 document for ``(method, path)`` routes of the Mastodon API."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in routes:
        names = [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]
        clean = "/".join(
            "{" + part[1:-1].split(":")[0] + "}" if part.startswith("{") else part
            for part in path.split("/")
        )
        params: list[dict[str, Any]] = [
            {"name": n, "in": "path", "required": True, "schema": _ID} for n in names
        ]
        op: dict[str, Any] = {"responses": {"default": {"description": "any"}}}
        if method in ("GET", "DELETE"):
            params += [{"name": k, "in": "query", "schema": v} for k, v in QUERY.items()]
        else:
            op["requestBody"] = {"content": {"application/json": {"schema": BODY}}}
        op["parameters"] = params
        paths.setdefault(clean, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Koers: the Mastodon API (from its routes)", "version": "1"},
        "paths": paths,
    }


def _routes(instance: Instance) -> list[tuple[str, str]]:
    found = set()
    for route in instance.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if (
            path.startswith(("/api/v1/", "/api/v2/"))
            and not path.startswith(STREAMING)
            and route.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        ):
            found.add((route.method, path))
    return sorted(found)


def _fuzz(
    base_url: str, token: str, document: dict[str, Any], real: dict[str, str]
) -> tuple[int, list[str]]:
    """Every operation, with random ids and with real ones; returns (calls, failures)."""

    def variants(operation: Any) -> list[Variant]:
        fixed = {k: v for k, v in real.items() if "{" + k + "}" in operation.path}
        positive = schemathesis.GenerationMode.POSITIVE
        return [(positive, None), (positive, fixed)] if fixed else [(positive, None)]

    return fuzz(
        document,
        base_url,
        token,
        variants=variants,
        checks=[not_a_server_error],
        examples=EXAMPLES,
    )


async def test_schemathesis_finds_no_server_errors_in_the_mastodon_api(instance: Instance) -> None:
    alice = await instance.create_member("alice")
    await instance.create_member("bob")
    token = await api_token(instance, "alice", scopes="read write follow push")
    post_id = await posts.create_post(instance.ctx, alice.actor_id, Draft(source="a post"))
    real = {"id": str(post_id), "account_id": str(alice.actor_id)}
    routes = _routes(instance)
    assert len(routes) > 80
    calls, failures = await asyncio.to_thread(
        _fuzz, instance.url, token, mastodon_document(routes), real
    )
    assert calls > len(routes) * 3
    assert failures == [], "\n".join(dict.fromkeys(failures))
