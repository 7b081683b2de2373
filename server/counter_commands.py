"""``koers counters rebuild``: recount the denormalised counters (account stats, reply counts).

Registered by ``server.cli`` (``EXTRA_COMMAND_MODULES``). Triggers keep the counters in every
change's transaction; the rebuild is for a database whose counters were never filled or are
doubted (after a restore, say). It may run while the server does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from server.command_groups import action_parser
from server.config import ensure_data_dir
from server.services import counters
from server.storage.db import migrated


def register(
    subparsers: Any,
    commands: dict[str, Any],
    add_common: Callable[[argparse.ArgumentParser], None],
    settings_fn: Callable[..., Any],
) -> None:
    """Add the ``counters`` command group to the ``koers`` parser."""
    p = action_parser(
        subparsers,
        "counters",
        "denormalised counters (statuses, followers …)",
        "rebuild",
        help_text="recount statuses, followers, following, last status and reply counts",
        description="Recount every account's statuses, followers, following and last status "
        "time and every post's replies by audience from the posts and follows tables, "
        f"{counters.BATCH} ids per transaction, printing progress.",
    )
    add_common(p)
    p.add_argument(
        "--batch",
        type=int,
        default=counters.BATCH,
        help="ids per transaction (default %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary")

    async def rebuild(args: argparse.Namespace) -> int:
        settings = ensure_data_dir(settings_fn(args))

        def show(p: counters.Progress) -> None:
            if not args.quiet:
                print(f"  {p.what}: {p.done:,} / {p.total:,} ids", file=sys.stderr)

        async with migrated(settings.database_url) as db:
            accounts, posts = await counters.rebuild(db, show, batch=max(args.batch, 1))
        print(f"counters rebuilt: {accounts:,} account ids, {posts:,} post ids")
        return 0

    commands["counters rebuild"] = rebuild
