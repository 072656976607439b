"""Reading a back-up's files from a bucket several at a time.

A bucket answers each request after a round trip (tens of milliseconds to a
provider's region), so files read one after another spend most of the back-up
waiting. ``fetched_in_order`` reads up to ``readers`` files at once, each into a
temporary file (in memory up to ``SPOOL_BYTES``, then in the back-up's own work
folder), and hands them back in the order asked, so the archive is the same
whatever the number of readers. At most twice ``readers`` files wait at any time:
the disk holds a window of files, never a second copy of the bucket.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import media
from .archive import Member, add_member
from .chain import PreviousArchive

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Job:
    member: str  # its name in the archive
    name: str  # its name in the storage
    alias: str  # the storage's alias
    storage: Any


@dataclass
class Fetched:
    job: Job
    held: Member | None = None  # listed only: the previous archive's chain has it
    file: IO[bytes] | None = None
    size: int = 0

    @property
    def missing(self) -> bool:
        return self.held is None and self.file is None

    def add_to(self, tar) -> Member | None:
        """Its manifest entry, after adding its bytes to ``tar`` (None when missing)."""
        if self.held is not None:
            return self.held
        if self.file is None:
            return None
        try:
            entry = add_member(tar, self.job.member, self.file, self.size)
        finally:
            self.file.close()
        return Member(name=entry.name, sha256=entry.sha256, size=entry.size, storage=self.job.alias)

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()


def held(
    previous: PreviousArchive | None, member: str, size: int, storage: str | None
) -> Member | None:
    """The entry of a file the previous archive's chain holds already, or None.
    Name, size and storage must match: stored media are never rewritten in place."""
    if previous is None or (known := previous.files.get(member)) is None:
        return None
    sha256, known_size, known_storage, held_in = known
    if (known_size, known_storage) != (size, storage):
        return None
    return Member(name=member, sha256=sha256, size=size, storage=storage, held_in=held_in)


def fetch(job: Job, *, previous: PreviousArchive | None, work: Path) -> Fetched:
    """One file read through its storage into a temporary file (or found held, or
    missing: a bucket's "no such key" is not an error here; the caller reports it)."""
    try:
        size = job.storage.size(job.name)
        if listed := held(previous, job.member, size, job.alias):
            return Fetched(job, held=listed)
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(work))  # noqa: SIM115
        try:
            with job.storage.open(job.name, "rb") as source:
                shutil.copyfileobj(source, spool, CHUNK)
            read = spool.tell()
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return Fetched(job, file=spool, size=read)
    except FileNotFoundError:
        return Fetched(job)
    except OSError as error:
        if media.is_not_found(error):
            return Fetched(job)
        raise


def fetched_in_order(
    jobs: Iterable[Job], *, previous: PreviousArchive | None, readers: int, work: Path
) -> Iterator[Fetched]:
    """Each job fetched, in the order given, with up to ``readers`` reading at once."""
    if readers <= 1:
        for job in jobs:
            yield fetch(job, previous=previous, work=work)
        return
    pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="backup-read")
    window: deque[Future[Fetched]] = deque()
    try:
        for job in jobs:
            window.append(pool.submit(fetch, job, previous=previous, work=work))
            if len(window) >= 2 * readers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        # Stopped early (an error, or the archive failed): nothing more is read, and
        # what was read is let go.
        pool.shutdown(wait=True, cancel_futures=True)
        for future in window:
            if not future.cancelled() and future.exception() is None:
                future.result().discard()
