"""A bounded schemathesis run over the Koers OpenAPI document against a real instance: no 5xx, data
that violates the document is refused with a 4xx, and every answer conforms to the document (status
code, content type, body schema)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
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

EXAMPLES = 20
MAX_REQUEST_LINE = 8000
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz(base_url: str, token: str, real_ids: dict[str, dict[str, int]]) -> tuple[int, list[str]]:
    """Run every operation in three ways (random ids, real ids, negative data); returns (calls, failures)."""
    schema = schemathesis.openapi.from_dict(document())
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        ids = real_ids["roles" if "/roles/" in operation.path else "communities"]
        path_ids = {k: v for k, v in ids.items() if "{" + k + "}" in operation.path}
        variants: list[tuple[schemathesis.GenerationMode, dict[str, Any] | None]] = [
            (schemathesis.GenerationMode.POSITIVE, None),
            (schemathesis.GenerationMode.NEGATIVE, None),
        ]
        if path_ids:
            variants.append((schemathesis.GenerationMode.POSITIVE, path_ids))
        for mode, fixed in variants:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                response = case.call(
                    base_url=base_url, session=session, headers=headers, timeout=30
                )
                if (
                    response.status_code == 400
                    and len(response.request.url or "") > MAX_REQUEST_LINE
                ):
                    # aiohttp's HTTP parser refuses request lines over 8190 bytes before any handler
                    # runs: a plain-text 400, which is the right answer, just not in our JSON shape.
                    return
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except Exception as exc:  # collect every failing operation, not only the first
                    failures.append(
                        f"{operation.label} ({mode.value}): {str(exc).splitlines()[0]} "  # noqa: B023 (run() is called at once, inside this iteration)
                        f"-> {response.status_code} {response.text[:200]}"
                    )

            try:
                run()
            except Unsatisfiable:
                # Nothing to negate (an operation without parameters or body): no negative cases.
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
    return calls, failures


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
