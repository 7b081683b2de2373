"""Typed app keys for the federation transport's per-app state (no module globals)."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.fetch import Fetcher
from federation.signatures import KeyCache

if TYPE_CHECKING:
    from federation.delivery import DeliveryWorker
    from federation.inbox import InboxHandlers
    from federation.inbox_store import InboxWriter

# ACTOR_EXTRAS: functions ``extra(conn, actor_row) -> Awaitable[dict]`` whose result is merged into
# a local actor's document (the semantics side adds Koers terms of Groups and Persons this way);
# ``conn`` may be the transaction that changed the actor.
ActorExtra = Callable[[AsyncConnection, Any], Awaitable[dict[str, Any]]]

# What the semantics side does with a remote actor the transport stores (federation/actors.py):
# ``prepare(doc, values)`` adjusts the column values before the write, ``stored(conn, id, values)``
# runs inside it. ``sanitise`` cleans the actor's HTML (bio, field values); until the semantics side
# sets its sanitiser, HTML is escaped, so nothing unsanitised is ever stored.
ActorPrepare = Callable[[dict[str, Any], dict[str, Any]], None]
ActorStored = Callable[[AsyncConnection, int, dict[str, Any]], Awaitable[None]]


@dataclass
class RemoteActorHooks:
    """The hooks ``federation.actors`` calls when it stores a remote actor."""

    sanitise: Callable[[str], str] = html.escape
    prepare: list[ActorPrepare] = field(default_factory=list)
    stored: list[ActorStored] = field(default_factory=list)


KEYS = web.AppKey("federation_keys", KeyCache)
FETCHER = web.AppKey("federation_fetcher", Fetcher)
DELIVERY: web.AppKey[DeliveryWorker] = web.AppKey("federation_delivery")
INBOX_HANDLERS: web.AppKey[InboxHandlers] = web.AppKey("federation_inbox_handlers")
INBOX_WRITER: web.AppKey[InboxWriter] = web.AppKey("federation_inbox_writer")
ACTOR_EXTRAS = web.AppKey("federation_actor_extras", list)
REMOTE_ACTOR_HOOKS = web.AppKey("federation_remote_actor_hooks", RemoteActorHooks)
