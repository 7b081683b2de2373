"""The domain side of federation: what Koers objects look like as ActivityStreams, which local
events become outgoing activities, and what incoming activities do to the community.

``federation/`` is the transport (signatures, inbox, delivery, fetching); this package registers
its handlers and listeners with it.
"""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register outbound listeners and inbound handlers (filled in as federation lands)."""
