"""The one schemathesis driver of the API fuzzers (the Koers API's OpenAPI document, and the
Mastodon API's drawn from its routes): every operation of a document, in the ways the fuzzer
names, against a running instance; every failure collected, not only the first.

Derandomised: every run sends the same requests. Runs in a thread (``requests`` blocks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

log = logging.getLogger(__name__)
# aiohttp's HTTP parser refuses request lines over 8190 bytes before any handler runs: a
# plain-text 400, which is the right answer, just not in our JSON shape.
MAX_REQUEST_LINE = 8000
SLOW_CALL_S = 2.0

# One way to run an operation: the generation mode and the path parameters held fixed (or None).
Variant = tuple[schemathesis.GenerationMode, dict[str, Any] | None]


def fuzz(
    document: dict[str, Any],
    base_url: str,
    token: str,
    *,
    variants: Callable[[Any], list[Variant]],
    checks: Sequence[Callable[..., Any]],
    examples: int,
) -> tuple[int, list[str]]:
    """Run each operation of ``document`` in each of its ``variants``, ``examples`` cases each,
    holding every answer to ``checks``; returns (calls made, failures)."""
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, fixed in variants(operation):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

            @settings(
                max_examples=examples,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                began = time.monotonic()
                response = case.call(
                    base_url=base_url, session=session, headers=headers, timeout=30
                )
                took = time.monotonic() - began
                if took > SLOW_CALL_S:
                    log.warning("slow call %s: %.1f s", operation.label, took)  # noqa: B023
                if (
                    response.status_code == 400
                    and len(response.request.url or "") > MAX_REQUEST_LINE
                ):
                    return
                try:
                    case.validate_response(response, checks=list(checks), headers=headers)
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
