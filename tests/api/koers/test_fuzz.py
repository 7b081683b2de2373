"""A bounded schemathesis run over the Koers OpenAPI document against a real instance: no 5xx, data
that violates the document is refused with a 4xx, and every answer conforms to the document (status
code, content type, body schema)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from server.api.koers.openapi import document
from server.services import roadmap, roles
from tests.api.koers.conftest import World
from tests.schemathesis_run import Variant, fuzz

EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _variants(real_ids: dict[str, dict[str, int]]) -> Callable[[Any], list[Variant]]:
    """Every operation with random ids, with negative data, and with real ids where it has any."""

    def variants(operation: Any) -> list[Variant]:
        ids = real_ids["roles" if "/roles/" in operation.path else "communities"]
        path_ids = {k: v for k, v in ids.items() if "{" + k + "}" in operation.path}
        found: list[Variant] = [
            (schemathesis.GenerationMode.POSITIVE, None),
            (schemathesis.GenerationMode.NEGATIVE, None),
        ]
        if path_ids:
            found.append((schemathesis.GenerationMode.POSITIVE, path_ids))
        return found

    return variants


def _fuzz(base_url: str, token: str, real_ids: dict[str, dict[str, int]]) -> tuple[int, list[str]]:
    """Run every operation in three ways (random ids, real ids, negative data); returns (calls, failures)."""
    return fuzz(
        document(),
        base_url,
        token,
        variants=_variants(real_ids),
        checks=CHECKS,
        examples=EXAMPLES,
    )


@pytest.mark.slow
async def test_schemathesis_finds_no_server_errors(world: World) -> None:
    ctx = world.instance.ctx
    role_id = await roles.create_role(ctx, world.manager.actor_id, world.community_id, name="host")
    item_id = await roadmap.create_item(
        ctx, world.member.actor_id, world.community_id, title="Seed swap"
    )
    real_ids = {
        "communities": {"id": world.community_id, "item_id": item_id},
        "roles": {"id": role_id},
    }
    assert world.manager.token is not None
    calls, failures = await asyncio.to_thread(
        _fuzz, world.instance.url, world.manager.token, real_ids
    )
    assert calls > 300
    assert failures == [], "\n".join(dict.fromkeys(failures))
