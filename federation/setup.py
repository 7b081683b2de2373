"""Wires federation into the app: routes, event listeners and background workers."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register federation routes, listeners and workers (filled in as federation lands)."""
