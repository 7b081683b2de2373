"""Domain events: how services tell federation, notifications and streaming what happened.

Listeners registered with ``in_transaction=True`` run inside the writing transaction (so an
outgoing activity row is written together with the post, or not at all). The others run after the
commit (streaming to connected clients), and their failures are logged, never raised to the user.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from server import event_kinds as kinds
from server.storage import group_commit

log = logging.getLogger(__name__)

InTxListener = Callable[[AsyncConnection, "Event"], Awaitable[None]]
AfterListener = Callable[["Event"], Awaitable[None]]
InTxBatchListener = Callable[[AsyncConnection, list["Event"]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Event:
    """``kind`` names what happened (``post.created``, ``follow.accepted`` …); ``data`` holds ids."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class EventHub:
    def __init__(self) -> None:
        self._in_tx: dict[str, list[InTxListener]] = defaultdict(list)
        self._after: dict[str, list[AfterListener]] = defaultdict(list)
        self._many: dict[InTxListener, InTxBatchListener] = {}

    def on(
        self, kind: str, listener: InTxListener, *, many: InTxBatchListener | None = None
    ) -> None:
        """Run ``listener(conn, event)`` inside the transaction that emits ``kind``
        (``many(conn, events)``, when given, does the same for many events at once: ``emit_many``)."""
        self._in_tx[kind].append(listener)
        if many is not None:
            self._many[listener] = many

    def listens(self, kind: str, listener: InTxListener) -> bool:
        """Is ``listener`` registered in-transaction for ``kind``?"""
        return listener in self._in_tx.get(kind, ())

    def after_commit(self, kind: str, listener: AfterListener) -> None:
        """Run ``listener(event)`` once the emitting transaction has committed."""
        self._after[kind].append(listener)

    async def emit(self, conn: AsyncConnection, kind: str, **data: Any) -> Event:
        """Emit inside a transaction; returns the event to pass to ``committed`` afterwards."""
        event = Event(kind, data)
        for listener in self._in_tx.get(kind, ()):
            await listener(conn, event)
        for listener in self._in_tx.get(kinds.ANY, ()):
            await listener(conn, event)
        return event

    async def emit_many(
        self, conn: AsyncConnection, kind: str, data: list[dict[str, Any]]
    ) -> list[Event]:
        """``emit`` of many events of one kind in one transaction (a batch of writes): each
        listener with a batch form is called once for all of them, the others once per event."""
        events = [Event(kind, d) for d in data]
        if not events:
            return events
        for listener in [*self._in_tx.get(kind, ()), *self._in_tx.get(kinds.ANY, ())]:
            many = self._many.get(listener)
            if many is not None:
                await many(conn, events)
            else:
                for event in events:
                    await listener(conn, event)
        return events

    async def committed(self, *events: Event) -> None:
        """Tell after-commit listeners; a failing listener is logged and the rest still run.

        In a group commit (``server.storage.group_commit``) whose shared transaction still holds
        this task's writes, they are told once it has committed (never, if it fails)."""
        if events and group_commit.defer(lambda: self._tell(events)):
            return
        await self._tell(events)

    async def _tell(self, events: tuple[Event, ...]) -> None:
        for event in events:
            for listener in [*self._after.get(event.kind, ()), *self._after.get(kinds.ANY, ())]:
                try:
                    await listener(event)
                except Exception:  # a stream or cache must not break the request that caused it
                    log.exception("after-commit listener for %s failed", event.kind)
