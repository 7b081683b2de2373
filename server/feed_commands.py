"""``koers feeds rebuild [--account NAME]``: build the precomputed home feeds afresh.

Registered by ``server.cli`` (``EXTRA_COMMAND_MODULES``). Feeds are kept on write; rebuilding
is for an instance upgraded from a version without them (until then each account's home is read
from the posts, as before), after restoring a backup, or after writing posts outside the server.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from server.command_groups import action_parser
from server.config import ensure_data_dir
from server.services import home_feed
from server.storage.db import migrated


def register(
    subparsers: Any,
    commands: dict[str, Any],
    add_common: Callable[[argparse.ArgumentParser], None],
    settings_fn: Callable[..., Any],
) -> None:
    """Add the ``feeds`` command group to the ``koers`` parser."""
    p = action_parser(
        subparsers,
        "feeds",
        "precomputed home feeds",
        "rebuild",
        help_text="rebuild home feeds from the posts (every local account, or one)",
        description="Rebuild the precomputed home feed of every local account (or of one) from "
        f"the posts: its newest {home_feed.MAX_LENGTH} posts of its own, of the accounts it "
        "follows and of the communities it joined. Safe while the server runs.",
    )
    p.add_argument("--account", metavar="NAME", help="only this local account (username)")
    add_common(p)

    async def rebuild(args: argparse.Namespace) -> int:
        settings = ensure_data_dir(settings_fn(args))
        started = time.monotonic()

        def progress(done: int, total: int, rows: int) -> None:
            print(f"  {done:,} / {total:,} feeds, {rows:,} rows", flush=True)

        async with migrated(settings.database_url) as db:
            feeds_done, rows = await home_feed.rebuild_all(
                db, username=args.account, progress=progress
            )
        took = time.monotonic() - started
        print(f"rebuilt {feeds_done:,} home feeds ({rows:,} rows) in {took:.1f} s")
        return 0

    commands["feeds rebuild"] = rebuild
