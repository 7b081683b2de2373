"""The OpenAPI document describes exactly the registered Koers API routes, and is valid."""

from __future__ import annotations

import re

from server.api.koers.openapi import document
from tests.api.koers.conftest import World

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _registered(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/koers/v1") and route.method in METHODS:
            out.add((route.method.lower(), re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)))
    return out


async def test_every_route_is_documented_and_every_operation_exists(world: World) -> None:
    documented = {(m, p) for p, ops in document()["paths"].items() for m in ops}
    registered = _registered(world.instance.app)
    assert registered, "no Koers API routes registered"
    assert registered - documented == set(), "routes missing from the OpenAPI document"
    assert documented - registered == set(), "documented operations that do not exist"


async def test_document_is_served_and_its_references_resolve(world: World) -> None:
    status, served = await world.anonymous.get("/openapi.json")
    assert status == 200 and served["openapi"].startswith("3.1")
    schemas = served["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', str(served).replace("'", '"')))
    assert refs and refs <= set(schemas)
    for path, ops in served["paths"].items():
        for method, op in ops.items():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == set(re.findall(r"\{(\w+)\}", path)), (method, path)
            if method != "get":
                assert op["security"] == [{"bearerAuth": []}], (method, path)
            if path != "/api/koers/v1/openapi.json":
                assert "401" in op["responses"], (method, path)
