"""Incremental back-ups (``backup --since``), on SQLite or PostgreSQL: an archive
holds only the media files its chain does not, lists every other one with the
archive that holds it, and a restore of the whole chain brings back every
record and every file; a broken chain is refused with nothing changed."""

import io
import shutil

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from clinic.models import Clinic, Patient
from exercises.models import ExerciseImage
from openhep import backup
from tests.factories import ExerciseFactory, PatientFactory
from tests.openhep.test_backup import (  # noqa: F401 (fixtures)
    PNG,
    everything,
    manifest_lines,
    media,
    read_members,
    records,
    write_members,
)

pytestmark = pytest.mark.django_db(transaction=True)


def make(path, since=None) -> str:
    out = io.StringIO()
    call_command("backup", output=path, since=since, stdout=out)
    return out.getvalue()


def archive_id(path) -> str:
    return manifest_lines(read_members(path))[-1]["end"]["sha256"]


def media_members(path) -> set[str]:
    return {name for name in read_members(path) if name.startswith("media/")}


def add_picture(name: str, data: bytes = PNG) -> str:
    image = ExerciseImage.objects.create(
        exercise=ExerciseFactory(), image=ContentFile(data, name=name), alt_text=name
    )
    return f"media/{image.image.name}"


@pytest.fixture
def chain(records, tmp_path):  # noqa: F811
    """A full back-up, then two incremental ones, each after new files: the
    archives (oldest first), the records and the files as at the last one."""
    folder = tmp_path / "backups"
    full = folder / "full.tar"
    make(full)
    first_new = add_picture("first.png", PNG + b"first")
    one = folder / "one.tar"
    make(one, since=full)
    second_new = add_picture("second.png", PNG + b"second")
    two = folder / "two.tar"
    out = make(two, since=one)
    return {
        "full": full,
        "one": one,
        "two": two,
        "new": (first_new, second_new),
        "out": out,
        "before": everything(),
        "files": media(),
    }


def test_an_incremental_archive_holds_only_new_files_and_lists_every_one(chain):
    full, one, two = chain["full"], chain["one"], chain["two"]
    first_new, second_new = chain["new"]
    assert len(media_members(full)) == 3  # logo, exercise picture, handout
    assert media_members(one) == {first_new}
    assert media_members(two) == {second_new}
    assert "1 media files" in chain["out"] and "4 more media files" in chain["out"]

    header, *entries, end = manifest_lines(read_members(two))
    assert header["format"] == backup.FORMAT_INCREMENTAL
    assert header["previous"]["id"] == archive_id(one)
    assert header["previous"]["file"] == "one.tar"
    # Every file the snapshot refers to is listed, with the archive holding it.
    held = {e["name"]: e.get("in") for e in entries if e["name"].startswith("media/")}
    assert set(held) == media_members(full) | {first_new, second_new}
    assert held[second_new] is None
    assert held[first_new] == archive_id(one)
    assert {held[name] for name in media_members(full)} == {archive_id(full)}
    assert end["end"]["elsewhere"] == 4 and end["end"]["media_files"] == 1
    # A full back-up stays format 2.
    assert manifest_lines(read_members(full))[0]["format"] == backup.FORMAT


def test_a_file_of_the_same_name_but_another_size_is_stored_again(records, tmp_path):  # noqa: F811
    full = tmp_path / "full.tar"
    make(full)
    logo = Clinic.objects.get().logo.name
    (settings.MEDIA_ROOT / logo).write_bytes(PNG + b"changed in place")
    incremental = tmp_path / "incremental.tar"
    make(incremental, since=full)
    assert media_members(incremental) == {f"media/{logo}"}


def test_restore_of_the_chain_brings_back_every_record_and_file(chain):
    before, files = chain["before"], chain["files"]
    Patient.objects.all().delete()
    shutil.rmtree(settings.MEDIA_ROOT)
    Clinic.objects.update(name="Renamed")
    PatientFactory(clinic=Clinic.objects.get(), first_name="After")
    assert everything() != before

    out = io.StringIO()
    call_command(
        "restore", str(chain["two"]), chain=[chain["one"], chain["full"]], yes=True, stdout=out
    )

    assert "Restored the database and 5 media files" in out.getvalue()
    assert everything() == before
    assert media() == files  # byte for byte


def test_verify_checks_the_whole_chain_when_given_it(chain):
    out = io.StringIO()
    call_command("backup", verify=chain["two"], stdout=out)
    assert "4 more media files" in out.getvalue() and "were not checked" in out.getvalue()

    out = io.StringIO()
    call_command("backup", verify=chain["two"], chain=[chain["full"], chain["one"]], stdout=out)
    assert "The chain is whole" in out.getvalue()


@pytest.mark.parametrize(
    "broken, message",
    [
        ("no chain given", r"The chain is broken: .*\(one.tar\), which is not among"),
        ("full missing", "The chain is broken: 3 files are held in archive .*full.tar"),
        ("full replaced by another", "3 files are held in .* is another archive of that name"),
        ("file missing from the full", "does not match its manifest: missing media/"),
        ("file altered in the full", "Checksum mismatch"),
    ],
)
def test_a_broken_chain_is_refused_and_nothing_changes(chain, tmp_path, broken, message):
    full = chain["full"]
    given = [chain["one"], full]
    if broken == "no chain given":
        given = []
    elif broken == "full missing":
        given = [chain["one"]]
    elif broken == "full replaced by another":
        full.unlink()
        make(full)  # a full back-up of the same name, made later: another archive
    else:
        members = read_members(full)
        handout = next(n for n in members if n.startswith("media/handouts/"))
        if broken == "file missing from the full":
            del members[handout]
        else:
            members[handout] = members[handout].replace(b"%%EOF", b"%%EOX")
        full.unlink()
        write_members(full, members)
    Clinic.objects.update(name="Changed after the back-up")
    shutil.rmtree(settings.MEDIA_ROOT / "exercises")
    before, files = everything(), media()

    with pytest.raises(CommandError, match=message) as excinfo:
        call_command("restore", str(chain["two"]), chain=given, yes=True, stdout=io.StringIO())

    assert "Nothing was changed" in str(excinfo.value)
    assert everything() == before and media() == files
    if given:
        with pytest.raises(CommandError, match="It is not a good back-up"):
            call_command("backup", verify=chain["two"], chain=given, stdout=io.StringIO())


def test_since_an_archive_that_is_not_there_writes_nothing(records, tmp_path):  # noqa: F811
    output = tmp_path / "incremental.tar"
    with pytest.raises(CommandError, match="No such archive"):
        make(output, since=tmp_path / "missing.tar")
    assert not output.exists()


def test_since_a_copy_of_the_previous_manifest_chains_as_the_archive_does(records, tmp_path):  # noqa: F811
    # The nightly script keeps this copy beside an archive it encrypts: the
    # server cannot read the encrypted archive back.
    full = tmp_path / "full.tar"
    make(full)
    sidecar = tmp_path / f"full.tar{backup.SIDECAR}"
    sidecar.write_bytes(read_members(full)[backup.MANIFEST])
    new = add_picture("new.png", PNG + b"new")
    one = tmp_path / "one.tar"
    make(one, since=sidecar)

    assert media_members(one) == {new}
    header = manifest_lines(read_members(one))[0]
    assert header["previous"]["file"] == "full.tar"
    assert header["previous"]["id"] == archive_id(full)
    out = io.StringIO()
    call_command("backup", verify=one, chain=[full], stdout=out)
    assert "The chain is whole" in out.getvalue()


def test_since_a_damaged_copy_of_the_manifest_writes_nothing(records, tmp_path):  # noqa: F811
    full = tmp_path / "full.tar"
    make(full)
    sidecar = tmp_path / f"full.tar{backup.SIDECAR}"
    sidecar.write_bytes(read_members(full)[backup.MANIFEST][:-20])
    output = tmp_path / "one.tar"
    with pytest.raises(CommandError):
        make(output, since=sidecar)
    assert not output.exists()
