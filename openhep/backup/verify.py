"""Checking an archive from end to end, before anything is restored from it."""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .archive import (
    CHUNK,
    DATABASE_MEMBERS,
    DATABASE_MEMBERS_V1,
    MANIFEST,
    MANIFEST_V1,
    MEDIA,
    BackupError,
    check_member,
    copy_hashing,
    manifest_read,
    members,
)

_LISTED = 10  # names quoted in a message; the rest are counted


@dataclass(frozen=True)
class VerifiedArchive:
    """An archive whose every member matched its manifest when it was read."""

    path: Path
    # The manifest's header: format, created_at, database, migrations.
    manifest: dict[str, Any]
    media_files: int
    media_bytes: int
    database_bytes: int  # as stored in the archive
    # The snapshot, unpacked (restore); None when only checked.
    database_file: Path | None
    # Every media member: name -> (SHA-256, size, storage alias or None for MEDIA_ROOT).
    # About 350 bytes of memory a file: restore writes each file against it.
    media: dict[str, tuple[str, int, str | None]] = field(repr=False)
    # The id of the archive (its manifest's summary checksum; None for format 1).
    id: str | None = None
    # An incremental archive's files held in earlier archives:
    # name -> (SHA-256, size, storage alias or None, id of the archive holding it).
    elsewhere: dict[str, tuple[str, int, str | None, str]] = field(default_factory=dict, repr=False)
    elsewhere_bytes: int = 0


def archive_verify(*, path: Path, into: Path | None = None) -> VerifiedArchive:
    """Read the whole archive and check every member against its manifest.

    Refuses (BackupError) an archive that is unreadable, has members with
    absolute paths, ``..``, links or other non-files, duplicates, members
    missing from or extra to the manifest, members after the manifest, a
    damaged manifest, or a checksum that differs. With ``into`` (an empty
    folder), the database snapshot is unpacked there for restore; without it
    nothing at all is written.
    """
    seen: dict[str, tuple[str, int]] = {}
    database: Path | None = None
    verified: VerifiedArchive | None = None
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in members(tar):
                check_member(member)
                name = member.name
                if verified is not None:
                    raise BackupError(
                        f"The archive does not match its manifest: {name!r} follows it."
                    )
                if name in seen:
                    raise BackupError(f"The archive holds {name!r} twice.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file (checked above)
                if name in (MANIFEST, MANIFEST_V1):
                    verified = _compare(path, name, source, seen, database)
                elif into is not None and name in _DATABASE_NAMES:
                    database = into / name.removesuffix(".gz")
                    seen[name] = _unpack(source, database, gzipped=name.endswith(".gz"))
                else:
                    seen[name] = copy_hashing(source)
    except FileNotFoundError as error:
        raise BackupError(f"No such archive: {path}") from error
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise BackupError(f"{path} is not a readable back-up archive ({error}).") from error
    if verified is None:
        raise BackupError(f"{path} has no manifest: not an OpenHEP back-up, or one cut short.")
    return verified


_DATABASE_NAMES = {*DATABASE_MEMBERS.values(), *DATABASE_MEMBERS_V1.values()}


def _unpack(source: IO[bytes], target: Path, *, gzipped: bool) -> tuple[str, int]:
    """Write the snapshot to ``target`` (gunzipped); the checksum of the stored bytes."""
    digest, size = hashlib.sha256(), 0
    inflate = zlib.decompressobj(wbits=31) if gzipped else None
    with open(target, "xb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(inflate.decompress(chunk) if inflate else chunk)
        if inflate is not None:
            out.write(inflate.flush())
            if not inflate.eof:
                raise BackupError("The database snapshot is cut short.")
    return digest.hexdigest(), size


def _compare(
    path: Path,
    manifest_name: str,
    source: IO[bytes],
    seen: dict[str, tuple[str, int]],
    database_file: Path | None,
) -> VerifiedArchive:
    """Read the manifest line by line against the members read before it."""
    header, entries = manifest_read(manifest_name, source)
    database_member = header["database"]["member"]
    media: dict[str, tuple[str, int, str | None]] = {}
    elsewhere: dict[str, tuple[str, int, str | None, str]] = {}
    missing: list[str] = []
    damaged: list[str] = []
    media_bytes = database_bytes = elsewhere_bytes = 0
    listed_database = False
    for entry in entries:
        if (
            entry.name in media
            or entry.name in elsewhere
            or (entry.name == database_member and listed_database)
        ):
            raise BackupError(f"The archive's manifest lists {entry.name!r} twice.")
        if entry.held_in is not None:  # in an earlier archive: checked with the chain
            elsewhere[entry.name] = (entry.sha256, entry.size, entry.storage, entry.held_in)
            elsewhere_bytes += entry.size
            continue
        found = seen.pop(entry.name, None)
        if found is None:
            missing.append(entry.name)
        elif found != (entry.sha256, entry.size):
            damaged.append(entry.name)
        elif entry.name == database_member:
            listed_database, database_bytes = True, entry.size
        elif entry.name.startswith(f"{MEDIA}/"):
            media[entry.name] = (entry.sha256, entry.size, entry.storage)
            media_bytes += entry.size
        else:
            damaged.append(entry.name)  # a database member of another engine
    extra = sorted(seen)
    if missing or extra:
        raise BackupError(
            "The archive does not match its manifest: "
            + "; ".join(
                part
                for part in (
                    f"missing {_some(missing)}" if missing else "",
                    f"not listed {_some(extra)}" if extra else "",
                )
                if part
            )
            + "."
        )
    if damaged:
        raise BackupError(f"Checksum mismatch (damaged or altered archive): {_some(damaged)}.")
    if not listed_database:
        raise BackupError("The archive holds no database snapshot.")
    return VerifiedArchive(
        path=path,
        manifest=header,
        media_files=len(media),
        media_bytes=media_bytes,
        database_bytes=database_bytes,
        database_file=database_file,
        media=media,
        id=entries.summary["sha256"] if entries.summary is not None else None,
        elsewhere=elsewhere,
        elsewhere_bytes=elsewhere_bytes,
    )


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")
