"""The aiohttp application: settings, database, templates, routes and background workers.

State lives on typed ``web.AppKey``s; background work hangs off ``cleanup_ctx``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import jinja2
from aiohttp import web

import federation.setup
import server.activitypub
import server.api
import server.mail_worker
import server.web
from server import periodic
from server.config import Settings, ensure_data_dir, templates_dir
from server.context import Context
from server.http import rate_limit
from server.http.params import path_id_guard
from server.i18n import jinja as i18n_jinja
from server.keys import CTX, DB, JINJA, SETTINGS
from server.services import accounts, home_feed, role_terms, scheduled
from server.storage.db import Database, migrate
from server.storage.faults import Reporter
from server.web.middleware import FAULTS, error_middleware, security_headers_middleware

log = logging.getLogger(__name__)


TEMPLATES = templates_dir()
STATIC = Path(__file__).resolve().parent / "static"


# Areas add their routes and start-up hooks here: each is ``setup(app)``.
Setup = Callable[[web.Application], None]


def _area_setups() -> list[Setup]:
    return [
        server.web.setup,
        federation.setup.setup,
        server.activitypub.setup,
        server.api.setup,
        server.mail_worker.setup,
    ]


def create_app(
    settings: Settings, *, db: Database | None = None, run_migrations: bool = True
) -> web.Application:
    """Build the application. The database is opened (and migrated) when the app starts."""
    settings = ensure_data_dir(settings)
    app = web.Application(
        middlewares=[
            error_middleware,
            rate_limit.rate_limit_middleware,
            security_headers_middleware,
            path_id_guard,
        ],
        client_max_size=16 * 1024 * 1024,
    )
    database = db or Database(settings.database_url)
    app[SETTINGS] = settings
    app[DB] = database
    app[CTX] = Context(database, settings)
    rate_limit.install(app, settings)
    app[FAULTS] = Reporter()
    home_feed.register(app[CTX])
    app[JINJA] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n_jinja.install(app[JINJA])

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        await database.check()
        if run_migrations:
            await migrate(database)
        app[CTX].organization_id = await accounts.ensure_organization(database, settings)
        yield
        if db is None:
            await database.close()

    app.cleanup_ctx.append(database_ctx)

    async def role_terms_ctx(app: web.Application) -> AsyncIterator[None]:
        task = role_terms.start_sweeper(app[CTX]) if settings.run_workers else None
        yield
        if task is not None:
            await role_terms.stop_sweeper(task)

    app.cleanup_ctx.append(role_terms_ctx)

    async def scheduled_ctx(app: web.Application) -> AsyncIterator[None]:
        scheduled.register(app[CTX])
        task = scheduled.start_publisher(app[CTX]) if settings.run_workers else None
        yield
        if task is not None:
            await scheduled.stop_publisher(task)

    app.cleanup_ctx.append(scheduled_ctx)

    async def optimize_ctx(app: web.Application) -> AsyncIterator[None]:
        started = False

        async def hourly() -> None:
            # not at start: the first round comes an hour in, when the tables have changed
            nonlocal started
            if started:
                await database.optimize()
            started = True

        task = periodic.start("db-optimize", hourly, every=3600) if settings.run_workers else None
        yield
        if task is not None:
            await periodic.stop(task)

    app.cleanup_ctx.append(optimize_ctx)
    for setup in _area_setups():
        setup(app)
    return app
