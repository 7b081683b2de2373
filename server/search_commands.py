"""``koers search rebuild``: index every post again for full-text search.

Registered by ``server.cli`` (``EXTRA_COMMAND_MODULES``). Triggers keep the index in every change's
transaction; the rebuild is for an index that is doubted, or after a bulk load that paused them.
It may run while the server does (one write transaction).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from server.command_groups import action_parser
from server.config import ensure_data_dir
from server.services import post_search
from server.storage.db import migrated


def register(
    subparsers: Any,
    commands: dict[str, Any],
    add_common: Callable[[argparse.ArgumentParser], None],
    settings_fn: Callable[..., Any],
) -> None:
    """Add the ``search`` command group to the ``koers`` parser."""
    p = action_parser(
        subparsers,
        "search",
        "the full-text index of posts",
        "rebuild",
        help_text="index every post again",
        description="Empty the full-text index of posts and fill it again from the posts table "
        "in one transaction.",
    )
    add_common(p)

    async def rebuild(args: argparse.Namespace) -> int:
        settings = ensure_data_dir(settings_fn(args))
        async with migrated(settings.database_url) as db:
            indexed = await post_search.rebuild(db)
        print(f"search index rebuilt: {indexed:,} posts")
        return 0

    commands["search rebuild"] = rebuild
