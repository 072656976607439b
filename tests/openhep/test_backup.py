"""Back-up and restore, on whichever database the suite runs against (SQLite or
PostgreSQL): a restored back-up brings back every record and every file."""

import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from clinic.audit import Actor
from clinic.models import Clinic, Patient
from exercises.models import ExerciseImage
from openhep import backup
from prescriptions import services
from prescriptions.models import Handout, Prescription, PrescriptionItem
from tests.factories import ExerciseFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)

# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
    "f8ffff3f0005fe02fea7d6a5c00000000049454e44ae426082"
)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def records(clinic, alice, patient):
    """A clinic with a logo, an exercise with a picture, an issued prescription with
    its stored handout and a draft: every kind of record and file the app keeps."""
    clinic.logo.save("logo.png", ContentFile(PNG))
    stretch = ExerciseFactory(name="Standing psoas stretch")
    bridge = ExerciseFactory(name="Glute bridge", reps=12, sets=3)
    ExerciseImage.objects.create(
        exercise=stretch, image=ContentFile(PNG, name="pose.png"), alt_text="A stretch"
    )
    issued = PrescriptionFactory(patient=patient, therapist=alice, title="Hips and back")
    for exercise in (stretch, bridge):
        services.prescription_add_exercise(
            prescription=issued, exercise=exercise, actor=Actor(issued.therapist)
        )
    services.prescription_issue(prescription=issued, actor=Actor(alice))
    draft = PrescriptionFactory(patient=patient, therapist=alice, title="Next week")
    services.prescription_add_exercise(
        prescription=draft, exercise=bridge, actor=Actor(draft.therapist)
    )
    return issued


def everything() -> dict[str, list[dict]]:
    """Every row of every table, field by field."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def media() -> dict[str, bytes]:
    root = settings.MEDIA_ROOT
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def read_members(path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def write_members(path, members, symlinks: dict[str, str] | None = None, mode="w"):
    """A tar of ``members`` (a dict, or (name, data) pairs to repeat a name)."""
    with tarfile.open(path, mode) as tar:
        for name, data in getattr(members, "items", lambda: members)():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)


def manifest_lines(members: dict[str, bytes]) -> list[dict]:
    """The manifest's lines, header first and summary last."""
    return [json.loads(line) for line in gzip.decompress(members[backup.MANIFEST]).splitlines()]


def manifest_data(lines: list[dict]) -> bytes:
    """A manifest of ``lines`` (without a summary) with a correct summary: an edit
    made with care, which only the deeper checks can catch."""
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    end = {"members": len(lines) - 1, "sha256": hashlib.sha256(body).hexdigest()}
    return gzip.compress(body + json.dumps({"end": end}).encode() + b"\n")


def listed(members: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    """``members`` plus one more before the manifest, with a correct entry in it."""
    lines = manifest_lines(members)[:-1]
    lines.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    members = {n: d for n, d in members.items() if n != backup.MANIFEST}
    return {**members, name: data, backup.MANIFEST: manifest_data(lines)}


@pytest.fixture
def archive(records, tmp_path):
    path = tmp_path / "backups" / "openhep.tar"
    call_command("backup", output=path, stdout=io.StringIO())
    return path


def test_restore_brings_back_every_record_and_handout(records, tmp_path):
    before, files = everything(), media()
    handout = Handout.objects.get(prescription=records)
    assert Prescription.objects.count() == 2 and PrescriptionItem.objects.count() == 3
    assert len(files) == 3  # logo, exercise picture, handout
    path = tmp_path / "backups" / "openhep.tar"
    out = io.StringIO()

    call_command("backup", output=path, stdout=out)

    assert f"Wrote {path}" in out.getvalue() and "3 media files" in out.getvalue()
    assert path.stat().st_mode & 0o077 == 0  # health data: owner only
    members = read_members(path)
    header, *entries, end = manifest_lines(members)
    assert header["format"] == 2 and header["database"]["vendor"] == connection.vendor
    assert header["migrations"]["prescriptions"]
    assert end["end"]["media_files"] == 3 and end["end"]["members"] == 4
    assert [e["name"] for e in entries] == [n for n in members if n != backup.MANIFEST]
    assert f"media/{handout.pdf.name}" in {e["name"] for e in entries}
    # Media stored as they are in a plain tar; the snapshot and the manifest gzipped.
    with tarfile.open(path, "r:") as tar:
        names = tar.getnames()
    assert names[0] == backup.DATABASE_MEMBERS[connection.vendor] and names[-1] == backup.MANIFEST
    assert members[f"media/{handout.pdf.name}"] == files[handout.pdf.name]

    # Disaster: records deleted, files gone, data changed, and a record made afterwards.
    Patient.objects.all().delete()
    shutil.rmtree(settings.MEDIA_ROOT)
    Clinic.objects.update(name="Renamed")
    PatientFactory(clinic=Clinic.objects.get(), first_name="After")
    assert everything() != before

    out = io.StringIO()
    call_command("restore", str(path), yes=True, stdout=out)

    assert "Restored the database and 3 media files" in out.getvalue()
    assert "manage.py migrate" in out.getvalue()
    assert everything() == before
    assert media() == files
    handout = Handout.objects.get(prescription=records)
    assert Prescription.objects.get(pk=records.pk).status == Prescription.Status.ISSUED
    with handout.pdf.open("rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == handout.sha256
    assert Clinic.objects.get().name == "Northside Myotherapy"
    assert not Patient.objects.filter(first_name="After").exists()
    # Sequences came back too: new records do not collide with restored ones.
    assert PatientFactory(clinic=Clinic.objects.get()).pk > max(
        p["id"] for p in before["clinic.Patient"]
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        ("altered", "Checksum mismatch"),
        ("parent", "unsafe path"),
        ("absolute", "unsafe path"),
        ("symlink", "not a plain file"),
        ("unlisted", "does not match its manifest: not listed media/extra.txt"),
        ("after the manifest", "missing media/extra.txt"),
        ("twice", "holds 'media/extra.txt' twice"),
        ("listed twice", "lists 'media/extra.txt' twice"),
        ("missing", "does not match its manifest: missing media/"),
        ("no manifest", "has no manifest"),
        ("garbled manifest", r"manifest \(manifest.jsonl.gz\) is damaged"),
        ("no summary", "ends without its summary line"),
        ("edited line", "the checksum of its lines differs"),
        ("other storage", "a bad entry for 'media/"),
        ("format 4", "format 4 is not supported"),
        ("format 3 without a previous", "its format and its previous archive disagree"),
        ("cut short", "cut short|not a readable back-up archive"),
        ("not an archive", "not a readable back-up archive"),
        ("other engine", "this installation uses"),
    ],
)
def test_a_damaged_or_unsafe_archive_is_refused_and_nothing_changes(
    archive, tmp_path, damage, message
):
    members = read_members(archive)
    handout_name = next(n for n in members if n.startswith("media/handouts/"))
    lines = manifest_lines(members)[:-1]
    extra = ("media/extra.txt", b"extra")
    extra_line = {"name": extra[0], "sha256": hashlib.sha256(extra[1]).hexdigest(), "size": 5}
    if damage == "altered":
        members[handout_name] = members[handout_name].replace(b"%%EOF", b"%%EOX")
    elif damage == "parent":
        members = listed(members, "media/../../escaped.txt", b"gotcha")
    elif damage == "absolute":
        members = listed(members, str(tmp_path / "escaped.txt"), b"gotcha")
    elif damage == "unlisted":
        manifest = members.pop(backup.MANIFEST)
        members = {**members, "media/extra.txt": b"not in the manifest", backup.MANIFEST: manifest}
    elif damage == "after the manifest":
        members = listed(members, *extra)
        members[extra[0]] = members.pop(extra[0])  # moved to the end
    elif damage == "twice":
        members = [*listed(members, *extra).items()]
        members.insert(-1, extra)
    elif damage == "listed twice":
        members = listed(members, *extra)
        members[backup.MANIFEST] = manifest_data([*lines, extra_line, extra_line])
    elif damage == "missing":
        del members[handout_name]
    elif damage == "no manifest":
        del members[backup.MANIFEST]
    elif damage == "garbled manifest":
        members[backup.MANIFEST] = members[backup.MANIFEST][:-20]
    elif damage == "no summary":
        body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        members[backup.MANIFEST] = gzip.compress(body)
    elif damage == "edited line":
        data = gzip.decompress(members[backup.MANIFEST]).replace(b'"size"', b'"size" ', 1)
        members[backup.MANIFEST] = gzip.compress(data)
    elif damage == "other storage":
        lines[-1]["storage"] = "staticfiles"
        members[backup.MANIFEST] = manifest_data(lines)
    elif damage in ("format 4", "format 3 without a previous"):
        lines[0]["format"] = 4 if damage == "format 4" else 3
        members[backup.MANIFEST] = manifest_data(lines)
    elif damage == "other engine":
        other = "sqlite" if on_postgresql() else "postgresql"
        lines[0]["database"].update(vendor=other, member=backup.DATABASE_MEMBERS[other])
        lines[1]["name"] = backup.DATABASE_MEMBERS[other]
        snapshot = members.pop(backup.DATABASE_MEMBERS[connection.vendor])
        snapshot = gzip.decompress(snapshot) if other == "postgresql" else gzip.compress(snapshot)
        lines[1].update(sha256=hashlib.sha256(snapshot).hexdigest(), size=len(snapshot))
        members = {lines[1]["name"]: snapshot}
        members |= {**read_members(archive), backup.MANIFEST: manifest_data(lines)}
        del members[backup.DATABASE_MEMBERS[connection.vendor]]
    bad = tmp_path / "bad.tar"
    if damage == "not an archive":
        bad.write_bytes(b"\x00" * 100 + archive.read_bytes()[:5000])
    elif damage == "cut short":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    else:
        write_members(bad, members, {"media/link": "/etc/passwd"} if damage == "symlink" else None)
    Clinic.objects.update(name="Changed after the back-up")
    before, files = everything(), media()

    with pytest.raises(CommandError, match=message) as excinfo:
        call_command("restore", str(bad), yes=True, stdout=io.StringIO())

    assert "Nothing was changed" in str(excinfo.value)
    assert everything() == before and media() == files
    assert not (tmp_path / "escaped.txt").exists()
    assert not (settings.MEDIA_ROOT / "link").exists()
    if damage != "other engine":  # a good back-up, for another installation
        with pytest.raises(CommandError, match="It is not a good back-up"):
            call_command("backup", verify=bad, stdout=io.StringIO())


def test_restore_asks_first_and_refuses_without_a_terminal(archive, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    Clinic.objects.update(name="Changed after the back-up")
    with pytest.raises(CommandError, match="pass --yes"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert Clinic.objects.get().name == "Changed after the back-up"


def test_files_the_database_refers_to_but_missing_are_a_warning(records, tmp_path):
    handout = Handout.objects.get(prescription=records)
    handout.pdf.storage.delete(handout.pdf.name)
    path, err = tmp_path / "b.tar", io.StringIO()

    call_command("backup", output=path, stdout=io.StringIO(), stderr=err)

    assert f"{handout.pdf.name} (prescriptions.Handout.pdf) is not in MEDIA_ROOT" in err.getvalue()
    assert manifest_lines(read_members(path))[-1]["end"]["media_files"] == 2


def test_a_failed_backup_leaves_no_archive(records, tmp_path, monkeypatch):
    def broken(root):
        yield "half.txt", settings.MEDIA_ROOT / "does-not-matter"
        raise OSError("disk on fire")

    monkeypatch.setattr(backup.media, "media_files", broken)
    folder = tmp_path / "backups"
    with pytest.raises(CommandError, match="disk on fire"):
        call_command("backup", output=folder / "b.tar", stdout=io.StringIO())
    assert list(folder.iterdir()) == []


def test_backup_never_overwrites(archive):
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", output=archive, stdout=io.StringIO())


def test_postgresql_password_goes_in_the_environment_not_the_command_line(monkeypatch):
    monkeypatch.setattr(backup.postgres.shutil, "which", lambda program: f"/usr/bin/{program}")
    argv, env = backup.pg_command(
        "pg_dump",
        {"NAME": "openhep", "USER": "hep", "PASSWORD": "s3cret", "HOST": "db", "PORT": 5433},
        ["--format=custom"],
    )
    assert "s3cret" not in " ".join(argv)
    assert env["PGPASSWORD"] == "s3cret" and env["PGHOST"] == "db" and env["PGPORT"] == "5433"


def test_missing_pg_dump_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backup.BackupError, match="pg_dump was not found on PATH"):
        backup.pg_command("pg_dump", {"NAME": "openhep"}, [])


def test_without_pg_dump_postgresql_backups_fail_cleanly_and_sqlite_ones_need_none(
    records, monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    folder = tmp_path / "backups"
    if on_postgresql():
        with pytest.raises(CommandError, match="pg_dump was not found"):
            call_command("backup", output=folder / "b.tar", stdout=io.StringIO())
        assert list(folder.iterdir()) == []
    else:
        # SQLite is backed up through Python's sqlite3 module: no program to install.
        call_command("backup", output=folder / "b.tar", stdout=io.StringIO())
        assert [path.name for path in folder.iterdir()] == ["b.tar"]


def test_pg_dump_errors_are_reported_with_their_message(monkeypatch, tmp_path):
    """A stand-in pg_dump that fails as the real one does when the database is missing
    (the real one, against this server, is exercised by the round trip on PostgreSQL)."""
    fake = tmp_path / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'pg_dump: error: database \"openhep_no_such_database\" does not exist' >&2\n"
        "exit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    wrong = {"NAME": "openhep_no_such_database", "HOST": "127.0.0.1", "USER": "postgres"}
    with pytest.raises(backup.BackupError, match='pg_dump failed .*"openhep_no_such_database"'):
        backup.pg_run("pg_dump", wrong, ["--schema-only", "--file=/dev/null"])


def test_a_handout_still_being_drawn_is_backed_up_and_restored_preparing(
    clinic, alice, patient, db_tasks, tmp_path
):
    """No file yet is not a missing file: no warning; restored, it is drawn again."""
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    services.prescription_add_exercise(
        prescription=rx, exercise=ExerciseFactory(), actor=Actor(alice)
    )
    handout = services.prescription_issue(prescription=rx, actor=Actor(alice))
    path, err = tmp_path / "b.tar", io.StringIO()
    call_command("backup", output=path, stdout=io.StringIO(), stderr=err)
    assert "is not in MEDIA_ROOT" not in err.getvalue()
    Handout.objects.all().delete()
    call_command("restore", str(path), yes=True, stdout=io.StringIO())
    restored = Handout.objects.get(pk=handout.pk)
    assert restored.status == Handout.Status.PREPARING and not restored.pdf
