"""Server-rendered web pages (Jinja2): they work without JavaScript.

Each module has a ``routes`` table; ``setup`` adds them all and the static files.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from aiohttp import web

from server.keys import CTX, JINJA
from server.web import card_cache, cards, compose_cache

PAGE_MODULES = (
    "auth",
    "home",
    "profiles",
    "posts",
    "remote_communities",
    "remote_roadmap",
    "remote_ideas",
    "remote_manage",
    "remote_roles",
    "remote_purpose",
    "communities",
    "roles",
    "roadmap",
    "feeds",
    "media",
    "admin",
    "settings",
    "notifications",
    "compose",
    "events",
    "roadmap_social",
    "ideas",
    "insights",
    "remote_interaction",
    "purpose_process",
    "kudos",
    "community_settings",
    "admin_federation",
    "admin_accounts",
    "admin_insights",
    "search",
    "initiatives",
    "mail",
    "oidc",
    "two_factor",
    "about",
    "languages",
    "live",
)


def setup(app: web.Application) -> None:
    cards.install(app[JINJA])
    card_cache.install(app[JINJA], app[CTX].db)
    compose_cache.install(app[JINJA])
    for name in PAGE_MODULES:
        try:
            module = importlib.import_module(f"server.web.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"server.web.{name}":
                continue
            raise
        app.router.add_routes(module.routes)
        if hasattr(module, "setup_app"):
            module.setup_app(app)
    app.router.add_static(
        "/static/", Path(__file__).resolve().parent.parent / "static", name="static"
    )
