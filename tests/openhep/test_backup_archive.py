"""Back-ups for a host with many files: no limit on the manifest, archives of the
old format still restored, --verify, and a restore that writes each file to its
place and says how far it got when it stops."""

import gzip
import hashlib
import io
import json
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from clinic.models import Clinic
from openhep import backup
from openhep.backup import archive as archive_module
from openhep.backup import restore as restore_module
from openhep.backup import verify as verify_module
from tests.openhep.test_backup import (  # noqa: F401 (fixtures)
    archive,
    everything,
    manifest_lines,
    media,
    read_members,
    records,
    write_members,
)

pytestmark = pytest.mark.django_db(transaction=True)


def as_format_1(members: dict[str, bytes]) -> dict[str, bytes]:
    """The same back-up as the code before format 2 wrote it: the database member
    not gzipped, and manifest.json (one object) last; the whole tar is gzipped."""
    header, *entries, end = manifest_lines(members)
    old = {}
    for entry in entries:
        data = members[entry["name"]]
        name = entry["name"]
        if name == "database.sqlite3.gz":
            name, data = "database.sqlite3", gzip.decompress(data)
        old[name] = data
    files = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in old.items()
    }
    header["database"]["member"] = next(n for n in old if n.startswith("database."))
    manifest = {**header, "format": 1, "media_file_count": len(files) - 1, "files": files}
    return {**old, backup.MANIFEST_V1: json.dumps(manifest, indent=2).encode()}


def test_an_archive_of_the_old_format_is_still_restored(archive, tmp_path):  # noqa: F811
    before, files = everything(), media()
    old = tmp_path / "old.tar.gz"
    write_members(old, as_format_1(read_members(archive)), mode="w:gz")
    out = io.StringIO()
    call_command("backup", verify=old, stdout=out)
    assert "format 1" in out.getvalue() and "3 media files" in out.getvalue()
    Clinic.objects.update(name="Changed after the back-up")
    for path in Path(settings.MEDIA_ROOT).rglob("*.*"):
        path.unlink()

    call_command("restore", str(old), yes=True, stdout=io.StringIO())

    assert everything() == before and media() == files


def test_verify_reads_everything_reports_and_writes_nothing(archive, tmp_path):  # noqa: F811
    out = io.StringIO()
    folder_before = sorted(archive.parent.iterdir())

    call_command("backup", verify=archive, stdout=out)

    assert f"{archive}: format 2" in out.getvalue()
    assert f"the {connection.vendor} database" in out.getvalue()
    assert "3 media files" in out.getvalue() and "Every checksum matches" in out.getvalue()
    assert sorted(archive.parent.iterdir()) == folder_before
    checked = backup.archive_verify(path=archive)
    assert checked.database_file is None and checked.media_files == 3
    assert checked.media_bytes == sum(len(data) for data in media().values())


def test_restore_stages_only_the_database_snapshot(archive, monkeypatch):  # noqa: F811
    staged_files = []
    real = backup.backup_restore

    def spy(*, staged, **kwargs):
        staged_files.extend(p.name for p in staged.database_file.parent.iterdir())
        return real(staged=staged, **kwargs)

    monkeypatch.setattr(backup, "backup_restore", spy)
    call_command("restore", str(archive), yes=True, stdout=io.StringIO())
    assert staged_files == [backup.DATABASE_MEMBERS[connection.vendor].removesuffix(".gz")]


def test_a_restore_that_stops_says_how_far_it_got_and_can_be_run_again(
    archive,  # noqa: F811
    monkeypatch,
):
    files = media()
    for path in Path(settings.MEDIA_ROOT).rglob("*.*"):
        path.unlink()
    calls = []
    real = restore_module.copy_hashing

    def disk_full(source, target=None):
        calls.append(1)
        if len(calls) == 2:
            target.write(source.read(10))  # half a file, then the disk is full
            raise OSError(28, "No space left on device")
        return real(source, target)

    monkeypatch.setattr(restore_module, "copy_hashing", disk_full)
    with pytest.raises(CommandError) as excinfo:
        call_command("restore", str(archive), yes=True, stdout=io.StringIO())

    message = str(excinfo.value)
    assert "Restore stopped at media/" in message and "No space left on device" in message
    assert "The database was restored" in message and "1 of 3 media files were written" in message
    assert len(media()) == 1  # the first file, whole; nothing half-written beside it
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if "restoring" in p.name]

    monkeypatch.setattr(restore_module, "copy_hashing", real)
    call_command("restore", str(archive), yes=True, stdout=io.StringIO())
    assert media() == files


def test_a_file_whose_name_restore_would_refuse_is_left_out_with_a_warning(
    records,  # noqa: F811
    tmp_path,
):
    odd = Path(settings.MEDIA_ROOT) / "uploads" / "back\\slash.txt"
    odd.parent.mkdir(parents=True)
    odd.write_bytes(b"a name made elsewhere")
    path, err = tmp_path / "b.tar", io.StringIO()

    call_command("backup", output=path, stdout=io.StringIO(), stderr=err)

    assert "'uploads/back\\\\slash.txt' has an unsafe path, which restore would refuse" in (
        err.getvalue()
    )
    call_command("backup", verify=path, stdout=io.StringIO())  # and the rest is good


def test_backup_of_many_files_restores_every_one(records, tmp_path):  # noqa: F811
    """The writer and the reader agree on an archive of a few thousand members."""
    root = Path(settings.MEDIA_ROOT) / "handouts" / "many"
    root.mkdir(parents=True)
    for i in range(2000):
        (root / f"{i:05d}.pdf").write_bytes(f"%PDF-1.7 {i}".encode())
    files = media()
    path = tmp_path / "many.tar"
    call_command("backup", output=path, stdout=io.StringIO())
    for file in root.iterdir():
        file.unlink()

    out = io.StringIO()
    call_command("restore", str(path), yes=True, stdout=out)

    assert "2003 media files" in out.getvalue()
    assert media() == files


def test_a_manifest_far_past_the_old_64_mib_limit_is_read_line_by_line():
    """Format 1 refused a manifest over 64 MiB (about 387,000 files) that its back-up
    had written. Here 300,000 entries, 80 MiB of lines, go through the same reader and
    comparison restore uses, against members as if read from the archive: the
    manifest has no size limit on the whole, only one per line, which the writer
    enforces too (test_a_line_restore_would_refuse_is_never_written). Real files would
    take minutes to write; test_backup_of_many_files_restores_every_one runs the
    whole path with real ones."""
    started = time.monotonic()
    count, digest = 300_000, hashlib.sha256(b"x").hexdigest()
    folder = "media/handouts/" + "c" * 200
    header = {
        "format": 2,
        "created_at": "2025-01-01T00:00:00+00:00",
        "database": {"vendor": "sqlite", "member": "database.sqlite3.gz"},
        "migrations": {},
    }
    first = {"name": "database.sqlite3.gz", "sha256": digest, "size": 1}
    body = [json.dumps(header), json.dumps(first)]
    body += [
        f'{{"name":"{folder}/{i:07d}.pdf","sha256":"{digest}","size":1}}' for i in range(count)
    ]
    data = "\n".join(body).encode() + b"\n"
    assert len(data) > 80 * 1024 * 1024
    end = {"end": {"members": count + 1, "sha256": hashlib.sha256(data).hexdigest()}}
    manifest = gzip.compress(data + json.dumps(end).encode() + b"\n", compresslevel=1)
    seen = {"database.sqlite3.gz": (digest, 1)}
    seen.update((f"{folder}/{i:07d}.pdf", (digest, 1)) for i in range(count))

    checked = verify_module._compare(
        Path("big.tar"), backup.MANIFEST, io.BytesIO(manifest), seen, database_file=None
    )

    assert checked.media_files == count and checked.media_bytes == count
    assert time.monotonic() - started < 60


def test_a_line_restore_would_refuse_is_never_written(tmp_path):
    writer = archive_module.ManifestWriter(tmp_path / "m.gz", {"format": 2})
    long_name = "media/" + "x" * archive_module.LINE_MAX_BYTES
    with pytest.raises(backup.BackupError, match="A manifest line passes"):
        writer.add(backup.Member(name=long_name, sha256="0" * 64, size=1))
    writer.abandon()
