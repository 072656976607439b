"""Restoring a verified archive: the database from its staged snapshot, then each
media file straight to its place."""

from __future__ import annotations

import os
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from . import media
from .archive import MEDIA, BackupError, check_member, copy_hashing, database_vendor, members
from .chain import Wanted
from .create import sqlite_check
from .postgres import pg_run
from .verify import VerifiedArchive


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    media_files: int
    # Migrations this code has that the restored database has not applied.
    pending_migrations: list[str]
    # Migrations the restored database has applied that this code does not know.
    unknown_migrations: list[str]


def check_compatible(manifest: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Refuse a back-up made on another database engine."""
    vendor = database_vendor(connections[using])
    archived = manifest["database"].get("vendor")
    if archived != vendor:
        raise BackupError(
            f"This back-up holds a {archived} database; this installation uses {vendor}. "
            "Restore it into an installation configured like the one that made it."
        )


def backup_restore(
    *,
    staged: VerifiedArchive,
    chain: Sequence[tuple[Path, Wanted]] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> RestoreResult:
    """Replace the database with the staged snapshot, then write the archive's
    media files into MEDIA_ROOT or their bucket (files of the same name are
    replaced, others left alone), then, for an incremental archive, those
    held in earlier archives of its chain from each (``chain``: what
    ``chain_verify`` returned; every archive checked already).

    The archive is read a second time: each file is written under a temporary
    name beside its place and renamed there only when its checksum matches
    the one verified, so no file is ever half-written, and the disk needs room
    for the media files once, not for a copy of the archive as well. If a file
    cannot be written, BackupError says how far the restore got. Runs no
    migrations: the result lists those this code has and the restored
    database lacks. ``staged`` is used up.
    """
    check_compatible(staged.manifest, using=using)
    if len(staged.elsewhere) != sum(len(wanted) for _, wanted in chain):
        raise BackupError(
            "The archive is incremental: its chain must be checked first (chain_verify)."
        )
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("A restore cannot run inside a database transaction.")
    if staged.database_file is None:
        raise BackupError("The archive was checked without unpacking its database snapshot.")
    try:
        _restore_database(connection, staged.database_file)
    except (BackupError, DatabaseError, OSError) as error:
        raise BackupError(
            f"The database could not be restored: {error} No media file was touched."
        ) from error

    total = staged.media_files + len(staged.elsewhere)
    progress = _Progress()
    try:
        _restore_files(staged.path, staged.media, progress, every_member=True)
        for path, wanted in chain:
            _restore_files(path, dict(wanted), progress, every_member=False)
    except (BackupError, OSError, tarfile.TarError, EOFError, zlib.error) as error:
        at = f" at {progress.name}" if progress.name else ""
        written = progress.written
        raise BackupError(
            f"Restore stopped{at}: {error}. The database was restored from the archive; "
            f"{written} of {total} media files were written and the others were not touched "
            "(no file is left half-written). Fix the cause and run the same restore again: "
            "it writes every file again."
        ) from error

    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    plan = executor.migration_plan(graph.leaf_nodes())
    pending = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
    unknown = sorted(
        f"{app}.{name}"
        for app, name in executor.loader.applied_migrations
        if (app, name) not in graph.nodes and app in executor.loader.migrated_apps
    )
    return RestoreResult(
        manifest=staged.manifest,
        media_files=progress.written,
        pending_migrations=pending,
        unknown_migrations=unknown,
    )


@dataclass
class _Progress:
    name: str | None = None
    written: int = 0


def _restore_files(
    path: Path,
    expected: dict[str, tuple[str, int, str | None]],
    progress: _Progress,
    *,
    every_member: bool,
) -> None:
    """Write the media members of the archive at ``path`` listed in ``expected``
    (which is used up). ``every_member``: the archive's every media member is
    expected (the latest archive); otherwise (an earlier one of its chain)
    the others are skipped."""
    with tarfile.open(path, mode="r:*") as tar:
        for member in members(tar):
            name = member.name
            if not name.startswith(f"{MEDIA}/"):
                continue
            progress.name = f"{name} ({path.name})" if not every_member else name
            check_member(member)
            entry = expected.pop(name, None)
            if entry is None:
                if not every_member:
                    continue
                raise BackupError("it was not in the archive when the archive was checked")
            source = tar.extractfile(member)
            assert source is not None  # a regular file (checked above)
            _restore_file(source, name.removeprefix(f"{MEDIA}/"), *entry)
            progress.written += 1
    progress.name = None
    if expected:
        raise BackupError(f"{len(expected)} files are gone from {path} since it was checked")


def _restore_database(connection: BaseDatabaseWrapper, snapshot: Path) -> None:
    if connection.vendor == "sqlite":
        _sqlite_restore(connection, snapshot)
        return
    # pg_restore drops and recreates every table: nothing of ours may hold a lock.
    connections.close_all()
    pg_run(
        "pg_restore",
        connection.settings_dict,
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(snapshot),
        ],
    )


def _sqlite_restore(connection: BaseDatabaseWrapper, source: Path) -> None:
    """Copy the snapshot into Django's own connection with SQLite's backup API:
    works for a file (WAL or not) and for an in-memory database alike."""
    snapshot = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        sqlite_check(snapshot, "The archived database")
        connection.ensure_connection()
        try:
            snapshot.backup(connection.connection)
        except sqlite3.Error as error:
            raise BackupError(f"Could not restore the SQLite database: {error}") from error
    finally:
        snapshot.close()


def _restore_file(
    source: IO[bytes], relative: str, sha256: str, size: int, alias: str | None
) -> None:
    if alias is None or media.is_local(alias):
        _replace_file(source, Path(settings.MEDIA_ROOT), relative, sha256)
        return
    # A bucket has no rename: the file is checked in a temporary file first.
    with tempfile.TemporaryFile() as f:
        if copy_hashing(source, f)[0] != sha256:
            raise BackupError("its checksum differs from the one verified")
        f.seek(0)
        _replace_stored(f, storages[alias], relative)


def _replace_file(source: IO[bytes], root: Path, relative: str, sha256: str) -> None:
    target = root / relative
    # The names were checked when verifying; this also catches a symlinked
    # folder inside MEDIA_ROOT that points elsewhere.
    if not target.parent.resolve().is_relative_to(root.resolve()):
        raise BackupError(f"Refusing to write {relative!r} outside MEDIA_ROOT.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=media.PARTIAL_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as out:
            digest, _ = copy_hashing(source, out)
        if digest != sha256:
            raise BackupError("its checksum differs from the one verified")
        os.chmod(partial, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _replace_stored(f: IO[bytes], storage: Any, name: str) -> None:
    """Put a file back into a bucket under exactly its old name."""
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, File(f))
    if saved != name:
        raise BackupError(f"the storage saved it as {saved!r}")
