"""The Mastodon-compatible client API, OAuth 2, and the Koers API under ``/api/koers/v1/``."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the API routes (filled in area by area)."""
