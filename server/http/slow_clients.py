"""Deadlines for slow clients and a bound on connections per address.

aiohttp waits as long as a client likes for a request's headers and body, so a few hundred
connections trickling a byte every few seconds would hold the server's sockets for ever. ``guard``
puts three limits on a running ``web.Server`` (the one ``koers serve`` listens with):

- the first request's line and headers must arrive within ``header_timeout`` seconds of the
  connection (later requests on a kept-alive connection are bounded by aiohttp's keep-alive
  timeout, which closes a connection idle or half-way through its next headers);
- a request body must arrive whole within ``body_timeout`` seconds plus one second per 64 KiB
  its ``Content-Length`` announces (a large upload on a slow line is not cut off);
- at most ``connections_per_address`` connections are open from one address at a time (trusted
  proxies, which carry many clients, are exempt); one more is closed at once.

Over a deadline the client gets ``408 Request Timeout`` (when nothing was answered yet) and the
connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from server.config import Settings

log = logging.getLogger(__name__)

BYTES_PER_EXTRA_SECOND = 64 * 1024
_TIMEOUT_TEXT = b"the request was not sent in time\n"
TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
)
REPORT_EVERY = 60.0


class SlowClientGuard:
    """The deadlines and connection counts of one server."""

    def __init__(self, server: web.Server, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.get_running_loop()
        self.per_address: dict[str, int] = {}
        self._header_timers: dict[RequestHandler, asyncio.TimerHandle] = {}
        self._addresses: dict[RequestHandler, str] = {}
        self._last_report = -REPORT_EVERY
        self._made, self._lost = server.connection_made, server.connection_lost
        self._factory = server.request_factory
        # instance attributes shadow the methods aiohttp's protocol calls on its manager
        server.connection_made = self.connection_made  # type: ignore[method-assign]
        server.connection_lost = self.connection_lost  # type: ignore[method-assign]
        server.request_factory = self.request_factory

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        """Count the connection; refuse one over its address's bound; start the header clock."""
        self._made(handler, transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        self._addresses[handler] = address
        count = self.per_address.get(address, 0) + 1
        self.per_address[address] = count
        limit = self.settings.connections_per_address
        if count > limit and address not in self.settings.trusted_proxies:
            self._report("%s has %d connections open (at most %d); closing one", address, count)
            transport.abort()
            return
        self._header_timers[handler] = self.loop.call_later(
            self.settings.header_timeout, self._too_slow, transport, None, "headers"
        )

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        """Forget the connection."""
        timer = self._header_timers.pop(handler, None)
        if timer is not None:
            timer.cancel()
        address = self._addresses.pop(handler, None)
        if address is not None:
            left = self.per_address.get(address, 1) - 1
            if left > 0:
                self.per_address[address] = left
            else:
                self.per_address.pop(address, None)
        self._lost(handler, exc)

    def request_factory(
        self, message: Any, payload: Any, protocol: Any, writer: Any, task: Any
    ) -> web.BaseRequest:
        """The headers are in: stop their clock; start the body's when a body is coming."""
        timer = self._header_timers.pop(protocol, None)
        if timer is not None:
            timer.cancel()
        request = self._factory(message, payload, protocol, writer, task)
        if not payload.is_eof():
            length = request.content_length or 0
            deadline = self.settings.body_timeout + length / BYTES_PER_EXTRA_SECOND
            self.loop.call_later(deadline, self._body_late, payload, protocol, writer)
        return request

    def _body_late(self, payload: Any, protocol: RequestHandler, writer: Any) -> None:
        if payload.is_eof():
            return
        transport = protocol.transport
        if transport is not None and not transport.is_closing():
            self._too_slow(transport, writer, "body")

    def _too_slow(self, transport: asyncio.BaseTransport, writer: Any, part: str) -> None:
        if transport.is_closing():
            return
        peer = transport.get_extra_info("peername")
        log.info("closing a connection from %s: request %s not received in time", peer, part)
        if writer is None or getattr(writer, "output_size", 0) == 0:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(TIMEOUT_ANSWER)
        transport.close()

    def _report(self, fmt: str, address: str, count: int) -> None:
        now = time.monotonic()
        if now - self._last_report >= REPORT_EVERY:
            self._last_report = now
            log.warning(fmt, address, count, self.settings.connections_per_address)
        else:
            log.debug(fmt, address, count, self.settings.connections_per_address)


def guard(server: web.Server, settings: Settings) -> SlowClientGuard:
    """Put the slow-client limits on a started ``web.Server`` (``AppRunner.server``)."""
    return SlowClientGuard(server, settings)
