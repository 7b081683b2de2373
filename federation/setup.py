"""Wires federation into the app: routes, per-app state and background workers.

Workers (delivery, inbox processing) start from ``cleanup_ctx`` only when ``settings.run_workers``;
tests drive them with ``run_delivery_once`` / ``process_inbox_once`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from federation import discovery, documents, inbox, policy
from federation.delivery import DeliveryWorker, run_delivery_once, wake  # noqa: F401  (re-exported)
from federation.fetch import Fetcher
from federation.inbox import InboxHandlers, inbox_loop
from federation.inbox_store import InboxWriter
from federation.signatures import KeyCache
from federation.state import (
    ACTOR_EXTRAS,
    DELIVERY,
    FETCHER,
    INBOX_HANDLERS,
    INBOX_WRITER,
    KEYS,
    REMOTE_ACTOR_HOOKS,
    RemoteActorHooks,
)
from server.events import Event
from server.keys import CTX, SETTINGS

log = logging.getLogger(__name__)


def setup(app: web.Application) -> None:
    """Register federation routes, state and workers."""
    settings = app[SETTINGS]
    keys = KeyCache()
    fetcher = Fetcher(settings, keys)
    app[KEYS] = keys
    app[FETCHER] = fetcher
    app[INBOX_HANDLERS] = InboxHandlers()
    app[INBOX_WRITER] = InboxWriter(app)
    policy.policy_cache(app[CTX].db.engine.sync_engine)  # watching writes from the start
    app[ACTOR_EXTRAS] = []
    app[REMOTE_ACTOR_HOOKS] = RemoteActorHooks()
    app[DELIVERY] = DeliveryWorker(app[CTX].db, settings, fetcher)
    for module in (discovery, documents, inbox):
        app.router.add_routes(module.routes)

    async def wake_delivery(_event: Event) -> None:
        app[DELIVERY].wake()

    # Any committed domain event may have queued deliveries: look at the queue now.
    app[CTX].events.after_commit("*", wake_delivery)
    app.cleanup_ctx.append(_lifecycle)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    tasks: list[asyncio.Task[None]] = []
    if app[SETTINGS].run_workers:
        tasks.append(asyncio.create_task(app[DELIVERY].loop(), name="koers-delivery"))
        tasks.append(asyncio.create_task(inbox_loop(app), name="koers-inbox"))
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    app[DELIVERY].close()
    await app[FETCHER].close()
