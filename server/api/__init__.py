"""The Mastodon-compatible client API, OAuth 2, and the Koers API under ``/api/koers/v1/``.

Each resource is one module with a ``routes`` table (or a ``setup(app)``); ``setup`` adds them all,
answers CORS preflights and puts CORS headers on every API and OAuth answer (the rate-limit
headers come from ``server.http.rate_limit``).
"""

from __future__ import annotations

import importlib

from aiohttp import web

from server.errors import NotFound

MODULES = (
    "oauth",
    "apps",
    "instance",
    "accounts",
    "relationships",
    "statuses",
    "polls",
    "timelines",
    "lists",
    "filters",
    "scheduled_statuses",
    "push",
    "notifications",
    "media",
    "search",
    "misc",
    "streaming",
    "koers",
    "reports",
)
_CORS_PATHS = ("/api/", "/oauth/", "/.well-known/oauth-authorization-server", "/nodeinfo")


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if not request.path.startswith(_CORS_PATHS):
        return
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault(
        "Access-Control-Expose-Headers",
        "Link, X-RateLimit-Reset, X-RateLimit-Limit, "
        "X-RateLimit-Remaining, X-Request-Id, Idempotency-Key",
    )


async def _preflight(request: web.Request) -> web.Response:
    """CORS preflight for any API path; any other method on an unknown path is a JSON 404."""
    if request.method != "OPTIONS":
        raise NotFound("Record not found" if request.path.startswith("/api/") else "not found")
    return web.Response(
        status=200,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": request.headers.get(
                "Access-Control-Request-Headers", "Authorization, Content-Type, Idempotency-Key"
            ),
            "Access-Control-Max-Age": "1728000",
        },
    )


def setup(app: web.Application) -> None:
    """Register the API routes, the preflight answer and the CORS header hook."""
    for name in MODULES:
        try:
            module = importlib.import_module(f"server.api.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"server.api.{name}":
                continue
            raise
        if hasattr(module, "setup"):
            module.setup(app)
        elif hasattr(module, "routes"):
            app.router.add_routes(module.routes)
    for prefix in ("/api/{tail:.*}", "/oauth/{tail:.*}"):
        app.router.add_route("*", prefix, _preflight)
    app.on_response_prepare.append(_add_headers)
