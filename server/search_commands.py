"""``koers search rebuild``: index every post again for full-text search.

Registered by ``server.cli`` (``EXTRA_COMMAND_MODULES``). Triggers keep the index in every change's
transaction; the rebuild is for an index that is doubted, or after a bulk load that paused them.
It may run while the server does (one write transaction).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from server.config import ensure_data_dir
from server.services import post_search
from server.storage.db import Database, migrate


def register(
    subparsers: Any,
    commands: dict[str, Any],
    add_common: Callable[[argparse.ArgumentParser], None],
    settings_fn: Callable[..., Any],
) -> None:
    """Add the ``search`` command group to the ``koers`` parser."""
    group = subparsers.add_parser("search", help="the full-text index of posts")
    sub = group.add_subparsers(dest="search_command", metavar="ACTION")
    p = sub.add_parser(
        "rebuild",
        help="index every post again",
        description="Empty the full-text index of posts and fill it again from the posts table "
        "in one transaction.",
    )
    add_common(p)

    async def rebuild(args: argparse.Namespace) -> int:
        settings = ensure_data_dir(settings_fn(args))
        db = Database(settings.database_url)
        try:
            await db.check()
            await migrate(db)
            indexed = await post_search.rebuild(db)
        finally:
            await db.close()
        print(f"search index rebuilt: {indexed:,} posts")
        return 0

    commands["search rebuild"] = rebuild
