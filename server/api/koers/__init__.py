"""The Koers JSON API under ``/api/koers/v1/``: communities, purpose, roles, competencies, results,
roadmap — what the Mastodon client API has no words for. One module per resource; handlers parse
input (``params``), call one service, and serialise (``serialize``). ``openapi`` describes it all.
"""

from __future__ import annotations

from aiohttp import web

from server.api.koers import (
    communities,
    competencies,
    events,
    ideas,
    initiatives,
    insights,
    network,
    openapi,
    purpose,
    purpose_process,
    remote_roadmap,
    results,
    roadmap,
    roles,
)

MODULES = (
    communities,
    purpose,
    purpose_process,
    roles,
    competencies,
    results,
    roadmap,
    ideas,
    insights,
    events,
    network,
    initiatives,
    remote_roadmap,
    openapi,
)


def setup(app: web.Application) -> None:
    """Register the Koers API routes."""
    for module in MODULES:
        app.router.add_routes(module.routes)
