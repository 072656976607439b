"""Back-up and restore: one archive holding a consistent database snapshot,
every media file and a manifest with a SHA-256 per member.

Archive layout (a gzipped tar)::

    database.sqlite3 | database.pgdump   the snapshot (SQLite file or pg_dump custom format)
    media/<path>                         every file under MEDIA_ROOT
    manifest.json                        format, time, engine, migrations, checksums

The commands (``manage.py backup`` / ``restore``) are thin wrappers around
``backup_create``, ``archive_verify`` and ``backup_restore``; see
docs/operations.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from clinic.storage import PUBLIC, public_storage

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_MANIFEST_MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A back-up or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    # Files the database refers to that were not under MEDIA_ROOT: name -> "app.Model.field".
    missing: dict[str, str]


@dataclass(frozen=True)
class StagedBackup:
    """An archive whose checksums were verified, unpacked into ``root``."""

    root: Path
    manifest: dict[str, Any]

    @property
    def database_file(self) -> Path:
        return self.root / self.manifest["database"]["member"]

    @property
    def media_members(self) -> list[str]:
        return sorted(n for n in self.manifest["files"] if n.startswith(f"{MEDIA}/"))


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    media_files: int
    # Migrations this code has that the restored database has not applied.
    pending_migrations: list[str]
    # Migrations the restored database has applied that this code does not know.
    unknown_migrations: list[str]


def default_backup_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return settings.VAR_DIR / "backups" / f"openhep-backup-{stamp}.tar.gz"


# Back-up


def backup_create(*, output: Path, using: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write one archive: the database snapshot first, then the media, then the manifest.

    The archive is written to a temporary file beside ``output`` (mode 0600)
    and renamed when complete, so a failed back-up never leaves a file that
    looks like a finished one.
    """
    connection = connections[using]
    vendor = _vendor(connection)
    if output.exists():
        raise BackupError(f"{output} already exists; choose another --output.")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    media_root = Path(settings.MEDIA_ROOT)

    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".openhep-backup-") as work:
        partial = Path(work) / "archive.tar.gz"
        database_member = DATABASE_MEMBERS[vendor]
        snapshot = Path(work) / database_member
        taken_at = timezone.now()
        references, migrations = _snapshot_database(connection, snapshot)
        files: dict[str, dict[str, Any]] = {}
        with open(partial, "xb") as raw:
            os.chmod(partial, 0o600)
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                with open(snapshot, "rb") as f:
                    files[database_member] = _add_file(tar, database_member, f)
                snapshot.unlink()
                for relative, path in _media_files(media_root):
                    try:
                        with open(path, "rb") as f:
                            files[f"{MEDIA}/{relative}"] = _add_file(tar, f"{MEDIA}/{relative}", f)
                    except FileNotFoundError:
                        continue  # Deleted since the walk; the reference check reports it.
                # Files in a bucket: every one the database refers to, read through
                # the storage of its field (the manifest names the storage for restore).
                for name, where in references.items():
                    alias = _storage_alias(where)
                    member = f"{MEDIA}/{name}"
                    if _is_local(alias) or member in files:
                        continue
                    entry = _add_stored(tar, member, storages[alias], name)
                    if entry is not None:
                        files[member] = {**entry, "storage": alias}
                manifest = {
                    "format": FORMAT,
                    "created_at": taken_at.isoformat(),
                    "database": {
                        "vendor": vendor,
                        "engine": connection.settings_dict["ENGINE"],
                        "member": database_member,
                    },
                    "migrations": migrations,
                    "media_file_count": len(files) - 1,
                    "files": files,
                }
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(data), 0o600, int(timezone.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, output)

    missing = {name: where for name, where in references.items() if f"{MEDIA}/{name}" not in files}
    return BackupResult(path=output, manifest=manifest, missing=missing)


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
            _sqlite_check(snapshot, "The database snapshot")
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


def _storage_alias(where: str) -> str:
    """The STORAGES alias of a field named "app.Model.field"."""
    label, field_name = where.rsplit(".", 1)
    storage = apps.get_model(label)._meta.get_field(field_name).storage
    return PUBLIC if storage is public_storage() else "default"


def _is_local(alias: str) -> bool:
    """A storage in MEDIA_ROOT, whose every file the back-up walks."""
    storage = storages[alias]
    return isinstance(storage, FileSystemStorage) and Path(storage.location) == Path(
        settings.MEDIA_ROOT
    )


def _add_stored(tar: tarfile.TarFile, member: str, storage, name: str) -> dict[str, Any] | None:
    """Add a file read through a storage (a bucket); None when it is not there."""
    try:
        size = storage.size(name)
        with storage.open(name, "rb") as f:
            info = tarfile.TarInfo(member)
            info.size, info.mode = size, 0o600
            info.mtime = int(timezone.now().timestamp())
            reader = _HashingReader(f)
            tar.addfile(info, reader)
    except FileNotFoundError:
        return None
    except OSError as error:
        if _is_not_found(error):
            return None
        raise
    return {"sha256": reader.hash.hexdigest(), "size": info.size}


def _is_not_found(error: Exception) -> bool:
    """A bucket's "no such key", however the storage library words it."""
    return "404" in str(error) or "NoSuchKey" in str(error) or "Not Found" in str(error)


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, path) for every regular file; symlinks are skipped."""
    if not root.is_dir() or not any(_is_local(alias) for alias in ("default", PUBLIC)):
        return
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(directory) / filename
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _add_file(tar: tarfile.TarFile, name: str, f: IO[bytes]) -> dict[str, Any]:
    """Add an open file to the archive, hashing exactly the bytes stored."""
    stat = os.fstat(f.fileno())
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = stat.st_size, 0o600, int(stat.st_mtime)
    reader = _HashingReader(f)
    tar.addfile(info, reader)
    return {"sha256": reader.hash.hexdigest(), "size": info.size}


class _HashingReader:
    def __init__(self, f: IO[bytes]):
        self.f = f
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.hash.update(data)
        return data


# Restore


def archive_verify(*, path: Path, into: Path) -> StagedBackup:
    """Unpack ``path`` into the empty folder ``into`` and check it against its manifest.

    Refuses (BackupError) an archive that is unreadable, has members with
    absolute paths, ``..``, links or other non-files, duplicates, members
    missing from or extra to the manifest, or a checksum that differs. Nothing
    outside ``into`` is written.
    """
    seen: dict[str, dict[str, Any]] = {}
    manifest_data: bytes | None = None
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                name = member.name
                _check_member(member)
                if name in seen or (name == MANIFEST and manifest_data is not None):
                    raise BackupError(f"The archive holds {name!r} twice.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file (checked above)
                if name == MANIFEST:
                    if member.size > _MANIFEST_MAX_BYTES:
                        raise BackupError("The archive's manifest is implausibly large.")
                    manifest_data = source.read()
                    continue
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "xb") as out:
                    digest = _copy_hashing(source, out)
                seen[name] = {"sha256": digest, "size": member.size}
    except FileNotFoundError as error:
        raise BackupError(f"No such archive: {path}") from error
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"{path} is not a readable back-up archive ({error}).") from error

    if manifest_data is None:
        raise BackupError(f"{path} has no {MANIFEST}: not an OpenHEP back-up.")
    try:
        manifest = json.loads(manifest_data)
        if not {"format", "created_at", "database", "files"} <= manifest.keys():
            raise KeyError("a required field")
        if not {"vendor", "member"} <= manifest["database"].keys():
            raise KeyError("database")
        files = manifest["files"]
        database_member = manifest["database"]["member"]
        format_version = manifest["format"]
        if not all(isinstance(entry["sha256"], str) for entry in files.values()):
            raise TypeError("sha256 is not text")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupError(f"The archive's {MANIFEST} is damaged ({error}).") from error
    if format_version != FORMAT:
        raise BackupError(
            f"Back-up format {format_version} is not supported by this code (format {FORMAT})."
        )
    missing, extra = sorted(set(files) - set(seen)), sorted(set(seen) - set(files))
    if missing or extra:
        raise BackupError(
            "The archive does not match its manifest: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not listed {', '.join(extra)}" if extra else "",
                )
                if part
            )
        )
    damaged = sorted(n for n in files if files[n]["sha256"] != seen[n]["sha256"])
    if damaged:
        raise BackupError(f"Checksum mismatch (damaged or altered archive): {', '.join(damaged)}.")
    if database_member not in DATABASE_MEMBERS.values() or database_member not in files:
        raise BackupError("The archive holds no database snapshot.")
    return StagedBackup(root=into, manifest=manifest)


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name:
        raise BackupError(f"Refusing archive member with an unsafe path: {name!r}.")
    if not member.isreg():
        raise BackupError(f"Refusing archive member that is not a plain file: {name!r}.")
    if str(pure) != name or not (
        name == MANIFEST
        or name in DATABASE_MEMBERS.values()
        or (len(pure.parts) > 1 and pure.parts[0] == MEDIA)
    ):
        raise BackupError(f"Unexpected archive member: {name!r}.")


def _copy_hashing(source: IO[bytes], target: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest()


def check_compatible(manifest: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Refuse a back-up made on another database engine."""
    vendor = _vendor(connections[using])
    archived = manifest["database"].get("vendor")
    if archived != vendor:
        raise BackupError(
            f"This back-up holds a {archived} database; this installation uses {vendor}. "
            "Restore it into an installation configured like the one that made it."
        )


def backup_restore(*, staged: StagedBackup, using: str = DEFAULT_DB_ALIAS) -> RestoreResult:
    """Replace the database with the staged snapshot, then write its media files
    into MEDIA_ROOT (files of the same name are replaced, others left alone).

    Runs no migrations: the result lists those this code has and the restored
    database lacks.
    """
    check_compatible(staged.manifest, using=using)
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("A restore cannot run inside a database transaction.")
    if connection.vendor == "sqlite":
        _sqlite_restore(connection, staged.database_file)
    else:
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
                str(staged.database_file),
            ],
        )
    media_root = Path(settings.MEDIA_ROOT)
    for member in staged.media_members:
        name = member.removeprefix(f"{MEDIA}/")
        alias = staged.manifest["files"][member].get("storage")
        if alias is None or _is_local(alias):
            _replace_file(staged.root / member, media_root, name)
        else:
            _replace_stored(staged.root / member, storages[alias], name)

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
        media_files=len(staged.media_members),
        pending_migrations=pending,
        unknown_migrations=unknown,
    )


def _sqlite_restore(connection: BaseDatabaseWrapper, source: Path) -> None:
    """Copy the snapshot into Django's own connection with SQLite's backup API:
    works for a file (WAL or not) and for an in-memory database alike."""
    snapshot = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _sqlite_check(snapshot, "The archived database")
        connection.ensure_connection()
        try:
            snapshot.backup(connection.connection)
        except sqlite3.Error as error:
            raise BackupError(f"Could not restore the SQLite database: {error}") from error
    finally:
        snapshot.close()


def _sqlite_check(db: sqlite3.Connection, what: str) -> None:
    try:
        # Structure only: CHECK constraints may call functions (REGEXP) that
        # only Django's own connections define.
        db.execute("PRAGMA ignore_check_constraints=ON")
        result = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        result = str(error)
    if result != "ok":
        raise BackupError(f"{what} fails SQLite's integrity check: {result}")


def _replace_stored(source: Path, storage, name: str) -> None:
    """Put a file back into a bucket under exactly its old name."""
    if storage.exists(name):
        storage.delete(name)
    with open(source, "rb") as f:
        saved = storage.save(name, File(f))
    if saved != name:
        raise BackupError(f"The storage saved {name!r} as {saved!r}; restore stopped.")


def _replace_file(source: Path, root: Path, relative: str) -> None:
    target = root / relative
    # The names were checked when unpacking; this also catches a symlinked
    # folder inside MEDIA_ROOT that points elsewhere.
    if not target.parent.resolve().is_relative_to(root.resolve()):
        raise BackupError(f"Refusing to write {relative!r} outside MEDIA_ROOT.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as f:
            shutil.copyfileobj(f, out, _CHUNK)
        os.chmod(partial, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


# PostgreSQL client programs


def pg_command(
    program: str, settings_dict: dict[str, Any], arguments: list[str]
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment for a PostgreSQL client program. Connection
    details go in libpq's environment variables; the password never on the
    command line, where other users could read it from the process list."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} was not found on PATH. Install the PostgreSQL client programs "
            "(Debian: apt-get install postgresql-client) of the server's major version or newer."
        )
    options = settings_dict.get("OPTIONS") or {}
    env = dict(os.environ)
    for variable, value in {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGSERVICE": options.get("service"),
        "PGPASSFILE": options.get("passfile"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
    }.items():
        if value:
            env[variable] = str(value)
    return [executable, "--no-password", *arguments], env


def pg_run(program: str, settings_dict: dict[str, Any], arguments: list[str]) -> None:
    argv, env = pg_command(program, settings_dict, arguments)
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(
            f"{program} failed (exit {result.returncode}): {result.stderr.strip() or 'no output'}"
        )


def _vendor(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in DATABASE_MEMBERS:
        raise BackupError(f"Back-up supports SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor
