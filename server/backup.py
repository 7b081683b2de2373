"""Backups of a data directory: one archive with the database, the media and the keys.

``make_backup`` may run while the instance serves. On SQLite the database is copied with SQLite's
online backup API (``sqlite3.Connection.backup``) in one step: a read transaction of its own, so
the copy is one committed state and writers carry on meanwhile (the database is in WAL mode). The
files of the data directory (media, ``secret.key``, push keys …) are added after it, so every
media row of the copy has its file; a file uploaded during the backup may come along without its
row, which is harmless. On PostgreSQL ``pg_dump`` (when on the PATH) writes the database part.

``restore_backup`` unpacks an archive into an empty (or absent) data directory and refuses
anything else: a data directory with files, an archive that is not ours, a member that would land
outside the directory. The instance actors' signing keys live in the database; the secret and the
push keys are files of the data directory: both come back.

No aiohttp here: the command line (``server.backup_commands``) prints ``progress`` lines.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from server import __version__, clock
from server.errors import KoersError

if TYPE_CHECKING:  # tarfile itself is imported by the commands that use it, not at start-up
    import tarfile

FORMAT = "koers-backup/1"
MANIFEST = "koers-backup.json"
SQLITE_MEMBER = "database/koers.sqlite3"
PG_MEMBER = "database/koers.pgdump"
FILES = "files"  # the data directory's files live under files/ in the archive
# Files of a live SQLite database are never copied as files: the backup API copies the database.
_DB_SUFFIXES = ("", "-wal", "-shm", "-journal")

Progress = Callable[[str], None]


class BackupError(KoersError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    """What an archive holds (or a restore brought back)."""

    path: Path
    database: str  # "sqlite", "postgresql" or "none" (PostgreSQL without pg_dump)
    files: int
    bytes: int


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for other databases (and in-memory SQLite)."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _plain_url(database_url: str) -> str:
    """A PostgreSQL URL as ``pg_dump``/``pg_restore`` read it (no SQLAlchemy driver suffix)."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _data_files(data_dir: Path, db_file: Path | None) -> Iterator[Path]:
    skip = {Path(f"{db_file}{s}").resolve() for s in _DB_SUFFIXES} if db_file else set()
    for path in sorted(data_dir.rglob("*")):
        if path.suffix == ".tmp" or path.resolve() in skip:
            continue  # a file being written (media are written as .tmp, then renamed)
        if path.is_file() and not path.is_symlink():
            yield path


def _copy_sqlite(source: Path, target: Path, progress: Progress) -> None:
    if not source.exists():
        raise BackupError(f"no database at {source}; is this the right data directory?")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        progress(f"database: copying {pages} pages with the SQLite backup API")
        src.backup(dst, pages=-1)  # one step: one read transaction, one consistent copy
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the database copy does not check out: {check}")
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source}: {exc}") from None
    finally:
        src.close()
        dst.close()


def _dump_postgres(database_url: str, target: Path, progress: Progress) -> bool:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        progress(
            "database: PostgreSQL, and pg_dump is not on the PATH; the archive holds the files "
            "only. Back the database up beside it with:\n"
            '  pg_dump --format=custom --file=koers.pgdump "$KOERS_DATABASE_URL"'
        )
        return False
    progress("database: running pg_dump")
    done = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={target}", _plain_url(database_url)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip() or done.returncode}")
    return True


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """The database holds the actors' private keys: readable by its owner only."""
    info.mode = 0o600
    return info


def _open_for_writing(partial: Path, target: Path) -> tarfile.TarFile:
    import tarfile

    if target.name.endswith((".gz", ".tgz")):
        return tarfile.open(partial, "w:gz")
    return tarfile.open(partial, "w")  # noqa: SIM115 - closed by the caller


def make_backup(
    data_dir: Path, database_url: str, target: Path, progress: Progress = lambda _l: None
) -> Summary:
    """Write the archive ``target`` (``.tar``, or ``.tar.gz``/``.tgz`` compressed)."""
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if not data_dir.is_dir():
        raise BackupError(f"no data directory at {data_dir}")
    if not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent} to write {target.name} into")
    db_file = sqlite_path(database_url)
    partial = target.with_name(target.name + ".partial")
    database = "none"
    count = size = 0
    try:
        with (
            tempfile.TemporaryDirectory(dir=target.parent) as tmp,
            _open_for_writing(partial, target) as tar,
        ):
            if db_file is not None:
                copy = Path(tmp) / "koers.sqlite3"
                _copy_sqlite(db_file, copy, progress)
                tar.add(copy, SQLITE_MEMBER, filter=_private)
                database = "sqlite"
            else:
                dump = Path(tmp) / "koers.pgdump"
                if _dump_postgres(database_url, dump, progress):
                    tar.add(dump, PG_MEMBER, filter=_private)
                    database = "postgresql"
            files = list(_data_files(data_dir, db_file))
            progress(f"files: {len(files)} (media, keys, secret)")
            for number, path in enumerate(files, 1):
                rel = path.relative_to(data_dir).as_posix()
                try:
                    info = tar.gettarinfo(path, f"{FILES}/{rel}")
                    with path.open("rb") as f:
                        tar.addfile(info, f)
                except FileNotFoundError:  # deleted since it was listed: nothing to keep
                    continue
                count, size = count + 1, size + info.size
                if number % 500 == 0:
                    progress(f"files: {number} of {len(files)}")
            manifest = json.dumps(
                {
                    "format": FORMAT,
                    "koers": __version__,
                    "created_at": clock.iso(clock.now()),
                    "database": database,
                    "files": count,
                },
                indent=2,
            ).encode()
            import tarfile

            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(manifest), int(clock.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(manifest))
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Summary(target, database, count, size)


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
        doc = json.loads(member.read()) if member is not None else None
    except (KeyError, ValueError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BackupError("this file is not a Koers backup (no koers-backup.json manifest)")
    return doc


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for m in tar.getmembers():
        name = PurePosixPath(m.name)
        if name.is_absolute() or ".." in name.parts or not (m.isfile() or m.isdir()):
            raise BackupError(f"the archive member {m.name!r} is not a plain file inside it")
        members.append(m)
    return members


def _is_empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def restore_backup(
    source: Path,
    data_dir: Path,
    database_url: str,
    progress: Progress = lambda _l: None,
) -> Summary:
    """Unpack the archive ``source`` into the empty data directory ``data_dir``."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if not _is_empty(data_dir):
        raise BackupError(
            f"the data directory {data_dir} is not empty; restore into a new, empty directory "
            "(--data-dir) so nothing is overwritten"
        )
    db_file = sqlite_path(database_url)
    if db_file is not None and db_file.exists():
        raise BackupError(f"a database already exists at {db_file}; restore needs none there")
    import tarfile

    try:
        tar = tarfile.open(source)  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError) as exc:
        reason = "not a tar archive" if isinstance(exc, tarfile.TarError) else exc.strerror
        raise BackupError(f"cannot read {source} as a backup archive: {reason}") from None
    with tar:
        manifest = _manifest(tar)
        members = _safe_members(tar)
        progress(f"backup of Koers {manifest.get('koers')} made {manifest.get('created_at')}")
        data_dir.mkdir(parents=True, exist_ok=True)
        count = size = 0
        files = [m for m in members if m.isfile() and m.name.startswith(f"{FILES}/")]
        progress(f"files: restoring {len(files)}")
        for m in files:
            dest = data_dir / PurePosixPath(m.name).relative_to(FILES)
            _extract(tar, m, dest)
            count, size = count + 1, size + m.size
        database = manifest.get("database", "none")
        if database == "sqlite":
            if db_file is None:
                raise BackupError(
                    "this backup holds a SQLite database, but the database URL is not SQLite; "
                    "restore with the default (or a sqlite:///…) database URL"
                )
            progress(f"database: restoring to {db_file}")
            db_file.parent.mkdir(parents=True, exist_ok=True)
            _extract(tar, tar.getmember(SQLITE_MEMBER), db_file)
        elif database == "postgresql":
            _restore_postgres(tar, data_dir, database_url, progress)
        else:
            progress("database: none in this backup (restore it with pg_restore from its dump)")
    return Summary(source, database, count, size)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> None:
    reader = tar.extractfile(member)
    if reader is None:
        raise BackupError(f"the archive member {member.name!r} cannot be read")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with reader, dest.open("xb") as out:
        shutil.copyfileobj(reader, out)
    dest.chmod(member.mode & 0o777 or 0o600)


def _restore_postgres(
    tar: tarfile.TarFile, data_dir: Path, database_url: str, progress: Progress
) -> None:
    if make_url(database_url).drivername.startswith("sqlite"):
        raise BackupError(
            "this backup holds a PostgreSQL dump; set KOERS_DATABASE_URL to an empty PostgreSQL "
            "database to restore it"
        )
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        dump = Path(tmp) / "koers.pgdump"
        _extract(tar, tar.getmember(PG_MEMBER), dump)
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            kept = data_dir / "koers.pgdump"
            dump.replace(kept)
            progress(
                f"database: pg_restore is not on the PATH; the dump is at {kept}. Restore it with:\n"
                f'  pg_restore --no-owner --dbname="$KOERS_DATABASE_URL" {kept}'
            )
            return
        progress("database: running pg_restore")
        done = subprocess.run(
            [pg_restore, "--no-owner", f"--dbname={_plain_url(database_url)}", str(dump)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip() or done.returncode}")
