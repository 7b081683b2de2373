"""The Mastodon-compatible client API, OAuth 2, and the Koers API under ``/api/koers/v1/``.

Each resource is one module with a ``routes`` table (or a ``setup(app)``); ``setup`` adds them all,
answers CORS preflights and puts CORS and rate-limit headers on every API and OAuth answer.
"""

from __future__ import annotations

import hashlib
import importlib
import time

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
RATE_LIMIT = 300
RATE_WINDOW = 300  # seconds, as Mastodon's default
_CORS_PATHS = ("/api/", "/oauth/", "/.well-known/oauth-authorization-server", "/nodeinfo")


class RateCounter:
    """Requests per client in fixed windows, for the ``X-RateLimit-*`` headers (advisory, not enforced)."""

    def __init__(self) -> None:
        self.window = 0
        self.counts: dict[str, int] = {}

    def hit(self, key: str) -> tuple[int, int]:
        """Count one request; returns (remaining, reset epoch seconds)."""
        now = int(time.time())
        window = now - now % RATE_WINDOW
        if window != self.window:
            self.window, self.counts = window, {}
        self.counts[key] = self.counts.get(key, 0) + 1
        return max(0, RATE_LIMIT - self.counts[key]), window + RATE_WINDOW


RATES = web.AppKey("api_rates", RateCounter)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if not request.path.startswith(_CORS_PATHS):
        return
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault(
        "Access-Control-Expose-Headers",
        "Link, X-RateLimit-Reset, X-RateLimit-Limit, "
        "X-RateLimit-Remaining, X-Request-Id, Idempotency-Key",
    )
    if request.path.startswith("/api/") and request.method != "OPTIONS":
        # Keyed by the token's hash (never the token itself), or the client address when anonymous.
        auth = request.headers.get("Authorization")
        key = hashlib.sha256(auth.encode()).hexdigest() if auth else (request.remote or "?")
        remaining, reset = request.app[RATES].hit(key)
        response.headers["X-RateLimit-Limit"] = str(RATE_LIMIT)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = time.strftime(
            "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(reset)
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
    """Register the API routes, the preflight answer and the header hook."""
    app[RATES] = RateCounter()
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
