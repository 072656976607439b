"""Incremental back-ups: an archive made ``--since`` an earlier one holds only the
media files that one's chain does not, and lists the others with the id of the
archive that holds each (``"in"``). Stored media never change once written (a
handout is immutable; a changed picture gets a new name), so a file of the same
name, size and storage as one in the previous archive is that file: its
checksum is taken from the previous manifest, not computed again.

An archive's id is the SHA-256 in its manifest's summary line: the checksum of
every line above it, so of every member's checksum and of the snapshot's.

Since only the manifest is read, PREVIOUS may also be a copy of it beside the
archive, ``ARCHIVE.manifest.jsonl.gz`` (``SIDECAR``): the nightly script keeps
one so that it can chain on an archive it has encrypted and cannot read back.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .archive import (
    FORMAT_INCREMENTAL,
    MANIFEST,
    MEDIA,
    BackupError,
    manifest_read,
    members,
)
from .verify import VerifiedArchive, archive_verify

# A copy of an archive's manifest member beside it: ARCHIVE + SIDECAR.
SIDECAR = f".{MANIFEST}"

# name -> (SHA-256, size, storage alias or None)
Wanted = dict[str, tuple[str, int, str | None]]


@dataclass(frozen=True)
class PreviousArchive:
    """What a back-up made ``--since`` an archive needs of it: its manifest only."""

    path: Path
    # The archive's file name, recorded in the next one's header (for a copy of
    # its manifest: the name of the archive it was taken from).
    file: str
    id: str
    created_at: str
    # Every media file its snapshot refers to: name -> (SHA-256, size, storage
    # alias or None, id of the archive that holds it: this one or an earlier one).
    files: dict[str, tuple[str, int, str | None, str]]


def previous_read(path: Path) -> PreviousArchive:
    """Read the manifest of the archive a back-up is made ``--since``: the
    archive itself, or a copy of its manifest (a file named ``ARCHIVE`` +
    ``SIDECAR``).

    Only the tar headers and the manifest are read (a plain tar is skipped
    through, not read): the members' checksums are checked by ``backup
    --verify`` and by restore, not here. A copy of the manifest is checked
    against its own summary line, as in the archive.
    """
    try:
        if path.name.endswith(SIDECAR) and len(path.name) > len(SIDECAR):
            with path.open("rb") as copy:
                return _previous(path, path.name.removesuffix(SIDECAR), copy)
        with tarfile.open(path, mode="r:") as tar:
            for member in members(tar):
                if member.name != MANIFEST:
                    continue
                source = tar.extractfile(member)
                if source is None:
                    break
                return _previous(path, path.name, source)
    except FileNotFoundError as error:
        raise BackupError(f"No such archive: {path}") from error
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise BackupError(
            f"{path} is not a back-up archive of format 2 or later ({error}): "
            "make a full back-up first."
        ) from error
    raise BackupError(f"{path} has no manifest: not an OpenHEP back-up, or one cut short.")


def _previous(path: Path, file: str, source: IO[bytes]) -> PreviousArchive:
    header, entries = manifest_read(MANIFEST, source)
    files: dict[str, tuple[str, int, str | None, str | None]] = {
        entry.name: (entry.sha256, entry.size, entry.storage, entry.held_in)
        for entry in entries
        if entry.name.startswith(f"{MEDIA}/")
    }
    assert entries.summary is not None  # read to its end
    archive_id = entries.summary["sha256"]
    return PreviousArchive(
        path=path,
        file=file,
        id=archive_id,
        created_at=header["created_at"],
        files={
            name: (sha256, size, storage, held_in or archive_id)
            for name, (sha256, size, storage, held_in) in files.items()
        },
    )


def chain_verify(latest: VerifiedArchive, earlier: Iterable[Path]) -> list[tuple[Path, Wanted]]:
    """Check that the archives ``earlier`` hold every file ``latest`` lists as
    held elsewhere, each with the checksum and size ``latest`` lists.

    Every archive is read whole and checked against its own manifest first
    (as ``backup --verify``). Returns, for each archive needed, the files to
    take from it; archives not needed are left out. Refuses (BackupError) a
    broken chain: an archive missing, one whose id is not the one recorded, a
    file it does not hold or holds with another checksum.
    """
    checked: dict[str, VerifiedArchive] = {}
    given: dict[str, Path] = {}  # file name -> path, to say which one is not the archive
    names: dict[str, str] = {}  # id -> the file name an archive's header gave it
    if previous := latest.manifest.get("previous"):
        names[previous["id"]] = previous["file"]
    for path in earlier:
        given[path.name] = path
        archive = archive_verify(path=path)
        if archive.id is None:
            continue  # format 1: never part of a chain
        checked.setdefault(archive.id, archive)
        if previous := archive.manifest.get("previous"):
            names.setdefault(previous["id"], previous["file"])

    needed: dict[str, Wanted] = {}
    for name, (sha256, size, storage, held_in) in latest.elsewhere.items():
        needed.setdefault(held_in, {})[name] = (sha256, size, storage)
    missing = sorted(set(needed) - set(checked))
    if missing:

        def why(i: str) -> str:
            name = names.get(i)
            held = f"{len(needed[i])} files are held in archive {i[:12]}… ({name or 'no name'})"
            if name in given:
                return f"{held}, but {given[name]} is another archive of that name"
            return f"{held}, which is not among those given"

        raise BackupError(
            "The chain is broken: "
            + "; ".join(why(i) for i in missing)
            + ". Pass every earlier archive of the chain with --chain (the one made with "
            "`backup --since`, and the one that one was made since, back to a full back-up)."
        )
    parts: list[tuple[Path, Wanted]] = []
    for archive_id, wanted in needed.items():
        archive = checked[archive_id]
        absent = [
            name
            for name, (sha256, size, storage) in wanted.items()
            if archive.media.get(name) != (sha256, size, storage)
        ]
        if absent:
            shown = ", ".join(absent[:10]) + (
                f" and {len(absent) - 10} more" if len(absent) > 10 else ""
            )
            raise BackupError(
                f"The chain is broken: {archive.path} does not hold {shown} as listed."
            )
        parts.append((archive.path, wanted))
    return parts


def is_incremental(archive: VerifiedArchive) -> bool:
    return archive.manifest["format"] == FORMAT_INCREMENTAL
