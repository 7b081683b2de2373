"""Typed app keys for the federation transport's per-app state (no module globals)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from federation.fetch import Fetcher
from federation.signatures import KeyCache

if TYPE_CHECKING:
    pass

# ACTOR_EXTRAS: functions ``extra(app, actor_row) -> Awaitable[dict]`` whose result is merged into
# a local actor's document (the semantics side adds Koers terms of Groups and Persons this way).
ActorExtra = Callable[[web.Application, Any], Awaitable[dict[str, Any]]]

KEYS = web.AppKey("federation_keys", KeyCache)
FETCHER = web.AppKey("federation_fetcher", Fetcher)
DELIVERY = web.AppKey("federation_delivery", "DeliveryWorker")
INBOX_HANDLERS = web.AppKey("federation_inbox_handlers", "InboxHandlers")
INBOX_WRITER = web.AppKey("federation_inbox_writer", "InboxWriter")
ACTOR_EXTRAS = web.AppKey("federation_actor_extras", list)
