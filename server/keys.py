"""The application's typed keys: the one place every layer finds the app's shared state.

A leaf module: it imports nothing of Koers at run time, so web handlers, the API, the
ActivityPub side and the federation transport can all reach the ``Context`` without importing
``server.app`` (which imports every area to wire them together).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

if TYPE_CHECKING:
    from server.config import Settings
    from server.context import Context
    from server.storage.db import Database

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DB: web.AppKey[Database] = web.AppKey("db")
CTX: web.AppKey[Context] = web.AppKey("ctx")
JINJA: web.AppKey[jinja2.Environment] = web.AppKey("jinja", jinja2.Environment)
