"""Koers: a federated ActivityPub server for communities of purpose."""

__version__ = "0.1.0"

from server import async_core  # noqa: E402  (before anything imports sqlalchemy.ext.asyncio)

async_core.install()
