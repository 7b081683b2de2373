"""``koers backup FILE`` and ``koers restore FILE``: the command line of ``server.backup``.

Registered by ``server.cli`` (``EXTRA_COMMAND_MODULES``). Both print one progress line per step
and end, on a mistake, with one ``koers: error: …`` line (``BackupError`` is a ``KoersError``).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.backup import make_backup, restore_backup
from server.config import Settings

BACKUP_HELP = """\
Write one archive with everything an instance needs to come back: the database (on SQLite
copied with SQLite's online backup API, safe while `koers serve` runs; on PostgreSQL with
pg_dump when it is on the PATH, otherwise the command says how to dump it), the media files,
the secret and the push keys. The signing keys of the actors are in the database.
A name ending in .tar.gz or .tgz is compressed; the file must not exist yet.
"""

RESTORE_HELP = """\
Unpack a backup made by `koers backup` into an empty (or absent) data directory; a directory
with files in it is refused, so nothing is overwritten. On PostgreSQL the dump is restored with
pg_restore into the (empty) database of KOERS_DATABASE_URL when pg_restore is on the PATH.
Then start the instance as usual: `koers serve` brings the schema up to date.
"""


def _say(line: str) -> None:
    print(line, flush=True)


def register(
    subparsers: Any,
    commands: dict[str, Any],
    add_common: Callable[[argparse.ArgumentParser], None],
    settings_fn: Callable[..., Settings],
) -> None:
    """Add ``backup`` and ``restore`` to the ``koers`` parser."""

    def add(name: str, help_text: str, description: str, file_help: str) -> None:
        p = subparsers.add_parser(
            name,
            help=help_text,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("file", help=file_help)
        add_common(p)

    add(
        "backup",
        "write a backup archive (database, media, keys), also while serving",
        BACKUP_HELP,
        "the archive to write (.tar, .tar.gz or .tgz)",
    )

    async def backup(args: argparse.Namespace) -> int:
        settings = settings_fn(args)
        target = Path(args.file).expanduser()
        _say(f"backing up {settings.data_dir} to {target}")
        summary = await asyncio.to_thread(
            make_backup, settings.data_dir, settings.database_url, target, _say
        )
        _say(f"done: {summary.files} files ({summary.bytes} bytes), database: {summary.database}")
        return 0

    commands["backup"] = backup

    add(
        "restore",
        "restore a backup archive into an empty data directory",
        RESTORE_HELP,
        "the archive written by `koers backup`",
    )

    async def restore(args: argparse.Namespace) -> int:
        settings = settings_fn(args)
        source = Path(args.file).expanduser()
        _say(f"restoring {source} into {settings.data_dir}")
        summary = await asyncio.to_thread(
            restore_backup, source, settings.data_dir, settings.database_url, _say
        )
        _say(
            f"done: {summary.files} files, database: {summary.database}; "
            "start the instance with `koers serve`"
        )
        return 0

    commands["restore"] = restore
