"""The archive's layout and its manifest, shared by back-up, check and restore.

Format 2, one uncompressed tar file::

    database.sqlite3.gz | database.pgdump   first: the snapshot (the SQLite file gzipped;
                                            pg_dump's custom format is compressed already)
    media/<path>                            every media file, stored as it is
    manifest.jsonl.gz                       last: one JSON object a line, gzipped

Media are stored without recompressing: handouts (PDF) and pictures are
compressed already, and gzip -9 shrank PDF-like files only to 0.88 at 40 MB/s
on one core, which made it the slowest step of a back-up by far.

The manifest is written line by line as members are added and read back the
same way, never as one piece, so it has no size limit (only a line has)::

    {"format": 2, "created_at": …, "database": {…}, "migrations": {…}}
    {"name": "media/…", "sha256": "…", "size": 123, "storage": "public"}
    {"end": {"members": N, "media_files": M, "media_bytes": B, "sha256": …}}

a header, then one line per member in archive order ("storage" only for a
file in a bucket), then a summary: the counts and the SHA-256 of every line
above it, so a manifest cut short or edited is caught.

Format 3 is format 2 plus a chain (``backup --since PREVIOUS``): the
header names the previous archive (``"previous": {"id", "file",
"created_at"}``, an archive's id being the SHA-256 in its manifest's summary
line) and a media file the archive does not hold, because an earlier archive
in the chain does, has a line with ``"in": <that archive's id>``; the summary
counts those lines too (``"members"``: every line; ``"elsewhere"`` and
``"elsewhere_bytes"``: those of files held elsewhere). Every file the
snapshot refers to is still listed. A full archive stays format 2, so code
that reads only format 2 still reads it, and refuses a format-3 one plainly.

Format 1 (until issue 21): a gzipped tar of ``database.sqlite3`` or
``database.pgdump``, ``media/…`` and ``manifest.json`` (one JSON object whose
"files" maps each member to its checksum). Still read, with no size limit.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import tarfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from clinic.storage import PUBLIC

FORMAT = 2
# An incremental archive: format 2 plus lines for files held in earlier archives.
FORMAT_INCREMENTAL = 3
MANIFEST = "manifest.jsonl.gz"
MANIFEST_V1 = "manifest.json"
MEDIA = "media"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3.gz", "postgresql": "database.pgdump"}
DATABASE_MEMBERS_V1 = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# The storages a member may name: restore writes nowhere else.
STORAGE_ALIASES = ("default", PUBLIC)
# One manifest line; the writer refuses what the reader would (a name is at most
# a few KiB), so a back-up never holds a line its restore cannot read.
LINE_MAX_BYTES = 64 * 1024
CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A back-up or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True, slots=True)
class Member:
    """One manifest entry: a member's name, checksum and size (and storage alias
    for a file that lives in a bucket)."""

    name: str
    sha256: str
    size: int
    storage: str | None = None
    # The id of the earlier archive that holds the file (this one does not).
    held_in: str | None = None

    def as_line(self) -> dict[str, Any]:
        line: dict[str, Any] = {"name": self.name, "sha256": self.sha256, "size": self.size}
        if self.storage is not None:
            line["storage"] = self.storage
        if self.held_in is not None:
            line["in"] = self.held_in
        return line


# The members a back-up holds besides media/…
TOP_LEVEL = frozenset(
    {MANIFEST, MANIFEST_V1, *DATABASE_MEMBERS.values(), *DATABASE_MEMBERS_V1.values()}
)


def unsafe_name(name: str, *, top_level: Collection[str] = TOP_LEVEL) -> str | None:
    """Why restore would refuse a member called ``name``, or None if it is fine.
    ``top_level``: the names expected besides media/… (another archive kind's)."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or "\x00" in name:
        return "an unsafe path"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "a name that is not UTF-8"
    if str(pure) != name or not (
        name in top_level or (len(pure.parts) > 1 and pure.parts[0] == MEDIA)
    ):
        return "an unexpected name"
    return None


def check_member(member: tarfile.TarInfo, *, top_level: Collection[str] = TOP_LEVEL) -> None:
    """Refuse a member with an unsafe or unexpected name, or that is not a plain file."""
    reason = unsafe_name(member.name, top_level=top_level)
    if reason == "an unsafe path":
        raise BackupError(f"Refusing archive member with an unsafe path: {member.name!r}.")
    if not member.isreg():
        raise BackupError(f"Refusing archive member that is not a plain file: {member.name!r}.")
    if reason is not None:
        raise BackupError(f"Unexpected archive member: {member.name!r}.")


def members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members one by one, without TarFile keeping each one's header in memory."""
    while (member := tar.next()) is not None:
        yield member
        forget_headers(tar)


def add_member(tar: tarfile.TarFile, name: str, f: IO[bytes], size: int) -> Member:
    """Add an open file to the archive, hashing exactly the bytes stored."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o600
    info.mtime = int(timezone.now().timestamp())
    reader = HashingReader(f)
    tar.addfile(info, reader)
    forget_headers(tar)
    return Member(name=name, sha256=reader.hash.hexdigest(), size=size)


def forget_headers(tar: tarfile.TarFile) -> None:
    """Drop the headers TarFile keeps of every member read or written: a few hundred
    bytes a member, which add up over hundreds of thousands of files."""
    tar.members.clear()  # type: ignore[attr-defined]  # an attribute typeshed leaves out


def copy_hashing(source: IO[bytes], target: IO[bytes] | None = None) -> tuple[str, int]:
    """Copy ``source`` to ``target`` (or nowhere); its SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


class HashingReader:
    """A file wrapper that hashes exactly the bytes read through it."""

    def __init__(self, f: IO[bytes]):
        self.f = f
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.hash.update(data)
        return data


# The manifest


class ManifestWriter:
    """Writes the format-2 manifest to a gzipped file, one line per member as it
    is added; ``close`` adds the summary line."""

    def __init__(self, path: Path, header: dict[str, Any]):
        self._raw = open(path, "xb")  # noqa: SIM115 (closed in close())
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self._hash = hashlib.sha256()
        self.members = self.media_files = self.media_bytes = 0
        self.elsewhere = self.elsewhere_bytes = 0
        self._write(header)

    def _write(self, line: dict[str, Any]) -> None:
        data = json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        if len(data) > LINE_MAX_BYTES:
            raise BackupError(f"A manifest line passes {LINE_MAX_BYTES} bytes: {data[:200]!r}…")
        self._hash.update(data)
        self._gzip.write(data)

    def add(self, member: Member) -> None:
        self._write(member.as_line())
        self.members += 1
        if member.held_in is not None:
            self.elsewhere += 1
            self.elsewhere_bytes += member.size
        elif member.name.startswith(f"{MEDIA}/"):
            self.media_files += 1
            self.media_bytes += member.size

    def close(self) -> dict[str, Any]:
        """Write the summary line and close the file; return the summary."""
        summary = {
            "members": self.members,
            "media_files": self.media_files,
            "media_bytes": self.media_bytes,
            "sha256": self._hash.hexdigest(),
        }
        if self.elsewhere:
            summary["elsewhere"] = self.elsewhere
            summary["elsewhere_bytes"] = self.elsewhere_bytes
        line = json.dumps({"end": summary}, sort_keys=True, separators=(",", ":")).encode()
        self._gzip.write(line + b"\n")
        self._gzip.close()
        self._raw.close()
        return summary

    def abandon(self) -> None:
        self._gzip.close()
        self._raw.close()


@dataclass
class ArchiveWriting:
    """An archive being written (``archive_write``): add members to ``tar`` and list
    each in ``manifest``; ``summary`` is the manifest's last line, once it is done."""

    tar: tarfile.TarFile
    manifest: ManifestWriter
    summary: dict[str, Any] | None = None


@contextmanager
def archive_write(partial: Path, work: Path, header: dict[str, Any]) -> Iterator[ArchiveWriting]:
    """Write a new archive at ``partial`` (refused if it exists, readable by its owner
    only): the caller adds the members; on a clean exit the manifest is closed and
    added last, and the file is flushed to disk. The caller renames it into place, so
    an archive that failed half-way never looks finished."""
    manifest = ManifestWriter(work / MANIFEST, header)
    try:
        with open(partial, "xb") as raw:
            os.chmod(partial, 0o600)
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                writing = ArchiveWriting(tar, manifest)
                yield writing
                writing.summary = manifest.close()
                with open(work / MANIFEST, "rb") as f:
                    add_member(tar, MANIFEST, f, os.fstat(f.fileno()).st_size)
            raw.flush()
            os.fsync(raw.fileno())
    finally:
        manifest.abandon()


class Entries:
    """The members of a format-2 manifest, one by one; once all are read,
    ``summary`` is its checked summary line (for format 1: None)."""

    def __init__(self, lines: Iterator[Member]):
        self._lines = lines
        self.summary: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[Member]:
        return self._lines


def manifest_read(name: str, stream: IO[bytes]) -> tuple[dict[str, Any], Entries]:
    """The header of the manifest member ``name`` and an iterator over its members.

    The iterator raises BackupError where the manifest is damaged: a format-2
    manifest is read a line at a time and must end with a summary line whose
    count and checksum match the lines before it.
    """
    if name == MANIFEST_V1:
        header, lines = _read_v1(stream)
        return header, Entries(lines)
    first, entries = manifest_lines(stream)
    header = _header(first, versions=(FORMAT, FORMAT_INCREMENTAL))
    incremental = header["format"] == FORMAT_INCREMENTAL
    if incremental != (header.get("previous") is not None):
        raise _damaged("its format and its previous archive disagree")
    entries._lines = _chained(entries._lines, incremental=incremental)
    return header, entries


def _chained(lines: Iterator[Member], *, incremental: bool) -> Iterator[Member]:
    """Only an incremental archive's lines may name an earlier archive."""
    for entry in lines:
        if entry.held_in is not None and (
            not incremental or not entry.name.startswith(f"{MEDIA}/")
        ):
            raise _damaged(f"a bad entry for {entry.name!r}")
        yield entry


def manifest_lines(stream: IO[bytes]) -> tuple[dict[str, Any], Entries]:
    """A format-2 manifest's first line, unchecked (each archive kind checks its own
    header), and an iterator over its members that checks the summary line."""
    source = gzip.GzipFile(fileobj=stream, mode="rb")
    digest = hashlib.sha256()
    first = _read_line(source, digest)
    if first is None or "end" in first:
        raise _damaged("it has no header line")
    entries = Entries(iter(()))
    entries._lines = _members_v2(source, digest, entries)
    return first, entries


def _members_v2(source: gzip.GzipFile, digest: Any, entries: Entries) -> Iterator[Member]:
    count = 0
    while (line := _read_line(source, digest)) is not None:
        if "end" in line:
            summary = line["end"]
            if not isinstance(summary, dict) or summary.get("members") != count:
                raise _damaged(f"its summary does not count the {count} members listed")
            if summary.get("sha256") != digest.hexdigest():
                raise _damaged("the checksum of its lines differs from its summary")
            if source.read(1):
                raise _damaged("it goes on after its summary line")
            entries.summary = summary
            return
        yield _member(line)
        count += 1
    raise _damaged("it ends without its summary line (cut short?)")


def _read_line(source: gzip.GzipFile, digest: Any) -> dict[str, Any] | None:
    try:
        data = source.readline(LINE_MAX_BYTES + 1)
    except (OSError, EOFError) as error:  # gzip: bad data, CRC, cut short
        raise _damaged(str(error)) from error
    if not data:
        return None
    if not data.endswith(b"\n"):
        raise _damaged("a line is cut short or too long")
    try:
        line = json.loads(data)
    except ValueError as error:
        raise _damaged(str(error)) from error
    if not isinstance(line, dict):
        raise _damaged("a line is not a JSON object")
    if "end" not in line:
        digest.update(data)
    return line


def _read_v1(stream: IO[bytes]) -> tuple[dict[str, Any], Iterator[Member]]:
    try:
        manifest = json.load(stream)
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except (ValueError, KeyError, TypeError) as error:
        raise _damaged(str(error), MANIFEST_V1) from error
    header = _header(manifest, versions=(1,), manifest_name=MANIFEST_V1)
    return header, (
        _member({"name": name, **entry}, MANIFEST_V1)
        if isinstance(entry, dict)
        else _member({}, MANIFEST_V1)
        for name, entry in files.items()
    )


def _header(
    line: dict[str, Any], *, versions: tuple[int, ...], manifest_name: str = MANIFEST
) -> dict[str, Any]:
    try:
        format_version = line["format"]
        database = line["database"]
        if not isinstance(database, dict) or not {"vendor", "member"} <= database.keys():
            raise KeyError("database")
        header = {
            "format": format_version,
            "created_at": str(line["created_at"]),
            "database": database,
            "migrations": line.get("migrations") or {},
        }
        if (previous := line.get("previous")) is not None:
            if not (
                isinstance(previous, dict)
                and isinstance(previous.get("id"), str)
                and _SHA256.fullmatch(previous["id"])
            ):
                raise KeyError("previous")
            header["previous"] = {
                "id": previous["id"],
                "file": str(previous.get("file", "")),
                "created_at": str(previous.get("created_at", "")),
            }
    except (KeyError, TypeError) as error:
        raise _damaged(f"missing {error}", manifest_name) from error
    if format_version not in versions:
        raise BackupError(
            f"Back-up format {format_version!r} is not supported by this code "
            f"(it reads formats 1 to {FORMAT_INCREMENTAL})."
        )
    members = DATABASE_MEMBERS_V1 if format_version == 1 else DATABASE_MEMBERS
    if members.get(database["vendor"]) != database["member"]:
        raise BackupError("The archive holds no database snapshot.")
    return header


def _member(line: dict[str, Any], manifest_name: str = MANIFEST) -> Member:
    name, sha256, size = line.get("name"), line.get("sha256"), line.get("size")
    storage, held_in = line.get("storage"), line.get("in")
    if not (
        isinstance(name, str)
        and isinstance(sha256, str)
        and _SHA256.fullmatch(sha256)
        and isinstance(size, int)
        and size >= 0
        and (storage is None or storage in STORAGE_ALIASES)
        and (held_in is None or (isinstance(held_in, str) and _SHA256.fullmatch(held_in)))
    ):
        raise _damaged(f"a bad entry for {name!r}", manifest_name)
    return Member(name=name, sha256=sha256, size=size, storage=storage, held_in=held_in)


def _damaged(why: str, manifest_name: str = MANIFEST) -> BackupError:
    return BackupError(f"The archive's manifest ({manifest_name}) is damaged: {why}.")


def database_vendor(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in DATABASE_MEMBERS:
        raise BackupError(f"Back-up supports SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor
