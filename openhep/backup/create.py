"""Writing a back-up: the database snapshot, then the media, then the manifest."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from . import buckets, media
from .archive import (
    CHUNK,
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_INCREMENTAL,
    MEDIA,
    BackupError,
    add_member,
    archive_write,
    database_vendor,
    unsafe_name,
)
from .chain import previous_read
from .postgres import pg_run


@dataclass(frozen=True)
class BackupResult:
    path: Path
    # The manifest's header (format, created_at, database, migrations) and its
    # summary (members, media_files, media_bytes, sha256).
    manifest: dict[str, Any]
    summary: dict[str, Any]
    # Files the database refers to that were not under MEDIA_ROOT: name -> "app.Model.field".
    missing: dict[str, str]
    # Files left out because restore would refuse their name: name -> why.
    skipped: dict[str, str]


def default_backup_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return settings.VAR_DIR / "backups" / f"openhep-backup-{stamp}.tar"


def backup_create(
    *, output: Path, since: Path | None = None, using: str = DEFAULT_DB_ALIAS
) -> BackupResult:
    """Write one archive: the database snapshot first, then the media, then the manifest.

    With ``since`` (an earlier archive), an incremental one: the media files
    that archive's chain already holds (same name, size and storage: stored
    media never change) are not stored again but listed with the id of the
    archive that holds them (see ``chain``).

    The archive is written to a temporary file beside ``output`` (mode 0600)
    and renamed when complete, so a failed back-up never leaves a file that
    looks like a finished one. The manifest is written as members are added
    and every name is checked as restore will check it, so whatever the
    number of files, restore accepts what this writes.
    """
    connection = connections[using]
    vendor = database_vendor(connection)
    if output.exists():
        raise BackupError(f"{output} already exists; choose another --output.")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    media_root = Path(settings.MEDIA_ROOT)
    previous = previous_read(since) if since is not None else None

    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".openhep-backup-") as work:
        partial = Path(work) / "archive.tar"
        database_member = DATABASE_MEMBERS[vendor]
        snapshot = Path(work) / database_member.removesuffix(".gz")
        taken_at = timezone.now()
        references, migrations = _snapshot_database(connection, snapshot)
        if database_member.endswith(".gz"):
            snapshot = _gzip(snapshot, Path(work) / database_member)
        header = {
            "format": FORMAT,
            "created_at": taken_at.isoformat(),
            "database": {
                "vendor": vendor,
                "engine": connection.settings_dict["ENGINE"],
                "member": database_member,
            },
            "migrations": migrations,
        }
        if previous is not None:
            header["format"] = FORMAT_INCREMENTAL
            header["previous"] = {
                "id": previous.id,
                "file": previous.file,
                "created_at": previous.created_at,
            }
        # Names only (not checksums): enough to find what the database refers to
        # that is not in the archive.
        archived: set[str] = set()
        skipped: dict[str, str] = {}
        with archive_write(partial, Path(work), header) as writing:
            with open(snapshot, "rb") as f:
                writing.manifest.add(
                    add_member(writing.tar, database_member, f, os.fstat(f.fileno()).st_size)
                )
            snapshot.unlink()
            for relative, path in media.media_files(media_root):
                member = f"{MEDIA}/{relative}"
                if reason := unsafe_name(member):
                    skipped[relative] = reason
                    continue
                try:
                    if held := buckets.held(previous, member, path.stat().st_size, None):
                        writing.manifest.add(held)
                    else:
                        with open(path, "rb") as f:
                            size = os.fstat(f.fileno()).st_size
                            writing.manifest.add(add_member(writing.tar, member, f, size))
                except FileNotFoundError:
                    continue  # Deleted since the walk; the reference check reports it.
                archived.add(relative)
            # Files in a bucket: every one the database refers to, read through
            # the storage of its field (the manifest names the storage for restore),
            # several at a time (``buckets``), added in this order.
            jobs = []
            for name, where in references.items():
                alias = media.storage_alias(where)
                member = f"{MEDIA}/{name}"
                if media.is_local(alias) or name in archived or name in skipped:
                    continue
                if reason := unsafe_name(member):
                    skipped[name] = reason
                    continue
                jobs.append(buckets.Job(member, name, alias, storages[alias]))
            for fetched in buckets.fetched_in_order(
                jobs, previous=previous, readers=settings.BACKUP_READERS, work=Path(work)
            ):
                entry = fetched.add_to(writing.tar)
                if entry is not None:
                    writing.manifest.add(entry)
                    archived.add(fetched.job.name)
        summary = writing.summary
        assert summary is not None
        os.replace(partial, output)

    missing = {
        name: where
        for name, where in references.items()
        if name not in archived and name not in skipped
    }
    return BackupResult(
        path=output, manifest=header, summary=summary, missing=missing, skipped=skipped
    )


def _gzip(source: Path, target: Path) -> Path:
    """Gzip the SQLite snapshot (it shrinks to a fraction); remove the original."""
    with (
        open(source, "rb") as f,
        open(target, "xb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out,
    ):
        shutil.copyfileobj(f, out, CHUNK)
    source.unlink()
    return target


def _snapshot_database(
    connection: BaseDatabaseWrapper, target: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """Copy the database to ``target``. Return the media files it refers to and
    the latest migration per app, both read from that same snapshot."""
    if connection.in_atomic_block:
        raise BackupError("A back-up cannot run inside a database transaction.")
    if connection.vendor == "sqlite":
        # SQLite's online backup API, in one step: a consistent copy taken under
        # a read lock, writers carry on (WAL). Never copy the live file: with WAL,
        # committed pages may still be in the -wal file beside it.
        connection.ensure_connection()
        snapshot = sqlite3.connect(target)
        try:
            connection.connection.backup(snapshot)
            snapshot.execute("PRAGMA journal_mode=DELETE")  # self-contained: no -wal
            sqlite_check(snapshot, "The database snapshot")
            tables = {row[0] for row in snapshot.execute("SELECT name FROM sqlite_master")}
            return _read_snapshot(connection, tables, lambda sql: snapshot.execute(sql))
        finally:
            snapshot.close()
    # PostgreSQL: export this transaction's snapshot and have pg_dump use it, so
    # the dump and the references read here see the same database.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot_id,) = cursor.fetchone()
        pg_run(
            "pg_dump",
            connection.settings_dict,
            ["--format=custom", f"--snapshot={snapshot_id}", f"--file={target}"],
        )
        tables = set(connection.introspection.table_names(cursor))

        def execute(sql: str) -> list[tuple[Any, ...]]:
            cursor.execute(sql)
            return cursor.fetchall()

        return _read_snapshot(connection, tables, execute)


def _read_snapshot(
    connection: BaseDatabaseWrapper,
    tables: set[str],
    execute: Callable[[str], Iterable[tuple[Any, ...]]],
) -> tuple[dict[str, str], dict[str, str]]:
    """Every stored file name in a FileField/ImageField of any installed model
    (name -> "app.Model.field"), and the latest applied migration per app."""
    quote = connection.ops.quote_name
    references: dict[str, str] = {}
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed or opts.db_table not in tables:
            continue
        for field in opts.concrete_fields:
            if isinstance(field, models.FileField) and field.column:
                # Identifiers from our own models, quoted by the backend.
                column, table = quote(field.column), quote(opts.db_table)
                sql = f"SELECT DISTINCT {column} FROM {table} WHERE {column} <> ''"  # noqa: S608
                for (name,) in execute(sql):
                    references.setdefault(name, f"{opts.label}.{field.name}")
    migrations: dict[str, str] = {}
    table = MigrationRecorder.Migration._meta.db_table
    if table in tables:
        rows = execute(f"SELECT app, name FROM {quote(table)} ORDER BY applied, id")  # noqa: S608
        for app, name in rows:
            migrations[app] = name
    return references, dict(sorted(migrations.items()))


def sqlite_check(db: sqlite3.Connection, what: str) -> None:
    try:
        # Structure only: CHECK constraints may call functions (REGEXP) that
        # only Django's own connections define.
        db.execute("PRAGMA ignore_check_constraints=ON")
        result = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        result = str(error)
    if result != "ok":
        raise BackupError(f"{what} fails SQLite's integrity check: {result}")
