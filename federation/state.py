"""Typed app keys for the federation transport's per-app state (no module globals)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from federation.fetch import Fetcher
from federation.signatures import KeyCache

if TYPE_CHECKING:
    from federation.delivery import DeliveryWorker
    from federation.inbox import InboxHandlers
    from federation.inbox_store import InboxWriter

# ACTOR_EXTRAS: functions ``extra(app, actor_row) -> Awaitable[dict]`` whose result is merged into
# a local actor's document (the semantics side adds Koers terms of Groups and Persons this way).
ActorExtra = Callable[[web.Application, Any], Awaitable[dict[str, Any]]]

KEYS = web.AppKey("federation_keys", KeyCache)
FETCHER = web.AppKey("federation_fetcher", Fetcher)
DELIVERY: web.AppKey[DeliveryWorker] = web.AppKey("federation_delivery")
INBOX_HANDLERS: web.AppKey[InboxHandlers] = web.AppKey("federation_inbox_handlers")
INBOX_WRITER: web.AppKey[InboxWriter] = web.AppKey("federation_inbox_writer")
ACTOR_EXTRAS = web.AppKey("federation_actor_extras", list)
