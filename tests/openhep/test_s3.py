"""Media in an S3-compatible bucket (moto's server on loopback, started here):
public files readable by anyone and cacheable, private files only through the
clinic-scoped views by a signed address of a minute, and back-ups that hold both."""

import gzip
import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from moto.server import ThreadedMotoServer

from clinic.audit import Actor
from exercises.models import ExerciseImage
from openhep import backup
from openhep.settings import s3_storages
from prescriptions import services
from prescriptions.models import Handout
from tests.clinic.test_images import picture
from tests.helpers import free_port, pdf_reader

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("s3")]

BUCKET = "openhep-media"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint):
    """An empty bucket, and both storages pointed at it as MEDIA_STORAGE=s3 would."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    connection = {
        **CREDENTIALS,
        "bucket_name": BUCKET,
        "endpoint_url": endpoint,
        "addressing_style": "path",
    }
    storages = {
        # The storages MEDIA_STORAGE=s3 makes, pointed at moto.
        **s3_storages(connection, public_domain=None),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def is_public_read(client, key: str) -> bool:
    grants = client.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    return any(
        g["Grantee"].get("URI", "").endswith("/global/AllUsers") and g["Permission"] == "READ"
        for g in grants
    )


def fetch(url: str):
    """The body and the headers (looked up in any case) of a GET."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return response.read(), response.headers


@pytest.fixture
def stored(s3, clinic, alice, draft, exercises):
    """A clinic logo, a library picture and an issued handout, all in the bucket."""
    clinic.logo.save("logo.png", ContentFile(picture().read()), save=True)
    image = ExerciseImage(exercise=exercises[0], alt_text="Start", is_main=True)
    image.image.save("start.png", ContentFile(picture().read()), save=True)
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    return Handout.objects.get(prescription=draft)


def test_public_and_private_files_land_apart(s3, stored, clinic):
    handout_key = f"private/{stored.pdf.name}"
    logo_key = f"public/{clinic.logo.name}"
    assert {handout_key, logo_key} <= keys(s3)
    assert any(key.startswith("public/exercises/") for key in keys(s3))
    # 128 random bits in the handout's name: nothing about it can be guessed.
    assert len(stored.pdf.name.rsplit("/", 1)[1].removesuffix(".pdf")) == 22
    assert is_public_read(s3, logo_key) and not is_public_read(s3, handout_key)


def test_public_media_is_fetched_straight_from_the_bucket_and_cacheable(stored, clinic):
    url = clinic.logo.url
    assert "X-Amz-Signature" not in url and "Signature=" not in url
    body, headers = fetch(url)
    assert body == clinic.logo.open("rb").read()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_the_handout_prints_pictures_from_the_bucket(stored, draft):
    first_page = pdf_reader(stored.pdf.open("rb").read()).pages[0]
    assert len(first_page.images) >= 2  # the clinic's logo and the exercise picture


def test_a_private_handout_goes_out_by_a_signed_address_of_a_minute(
    client, alice, charlie, stored, draft
):
    url = reverse("prescriptions:handout", args=[draft.pk])
    assert client.get(url).status_code == 302  # anonymous: to sign-in
    assert "amazonaws" not in client.get(url).get("Location", "")
    client.force_login(charlie)
    assert client.get(url).status_code == 404  # another clinic
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 302
    signed = response["Location"]
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    assert response["Cache-Control"].startswith("max-age=0")
    body, headers = fetch(signed)
    assert hashlib.sha256(body).hexdigest() == stored.sha256
    assert headers["Content-Disposition"] == f'inline; filename="handout-{draft.pk}.pdf"'
    assert headers["Content-Type"] == "application/pdf"


def test_a_handout_missing_from_the_bucket_says_so(s3, client, alice, stored, draft):
    s3.delete_object(Bucket=BUCKET, Key=f"private/{stored.pdf.name}")
    client.force_login(alice)
    response = client.get(reverse("prescriptions:handout", args=[draft.pk]))
    assert response.status_code == 404
    assert "prescriptions/handout_missing.html" in [t.name for t in response.templates]


def test_backup_holds_the_bucket_and_restore_puts_it_back(s3, stored, clinic, tmp_path):
    before = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys(s3)}
    assert len(before) == 3
    path = tmp_path / "backup.tar"
    out = io.StringIO()
    call_command("backup", output=path, stdout=out)
    assert "3 media files" in out.getvalue()
    with tarfile.open(path) as tar:
        lines = gzip.decompress(tar.extractfile(backup.MANIFEST).read()).splitlines()
    storage = {entry.get("name"): entry.get("storage") for entry in map(json.loads, lines)}
    assert storage[f"media/{stored.pdf.name}"] == "default"
    assert storage[f"media/{clinic.logo.name}"] == "public"

    for key in before:
        s3.delete_object(Bucket=BUCKET, Key=key)
    out = io.StringIO()
    call_command("restore", str(path), yes=True, stdout=out)

    assert "3 media files" in out.getvalue()
    after = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys(s3)}
    assert after == before
    assert is_public_read(s3, f"public/{clinic.logo.name}")
    assert not is_public_read(s3, f"private/{stored.pdf.name}")


def test_an_incremental_backup_of_the_bucket_reads_only_new_files_and_restores(
    s3, stored, clinic, exercises, tmp_path
):
    full = tmp_path / "full.tar"
    call_command("backup", output=full, stdout=io.StringIO())
    image = ExerciseImage(exercise=exercises[1], alt_text="End", is_main=True)
    image.image.save("end.png", ContentFile(picture(size=(300, 200)).read()), save=True)
    before = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys(s3)}
    assert len(before) == 4
    incremental = tmp_path / "incremental.tar"
    out = io.StringIO()
    call_command("backup", output=incremental, since=full, stdout=out)
    assert "1 media files" in out.getvalue() and "3 more media files" in out.getvalue()
    with tarfile.open(incremental) as tar:
        assert [n for n in tar.getnames() if n.startswith("media/")] == [
            f"media/{image.image.name}"
        ]
        lines = gzip.decompress(tar.extractfile(backup.MANIFEST).read()).splitlines()
    entries = {e["name"]: e for e in map(json.loads, lines) if "name" in e}
    handout = entries[f"media/{stored.pdf.name}"]
    assert handout["storage"] == "default" and handout["in"]

    for key in before:
        s3.delete_object(Bucket=BUCKET, Key=key)
    out = io.StringIO()
    call_command("restore", str(incremental), chain=[full], yes=True, stdout=out)

    assert "4 media files" in out.getvalue()
    after = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys(s3)}
    assert after == before
    assert is_public_read(s3, f"public/{clinic.logo.name}")
    assert is_public_read(s3, f"public/{image.image.name}")
    assert not is_public_read(s3, f"private/{stored.pdf.name}")


def test_an_anonymous_read_of_a_private_object_is_refused(endpoint, stored):
    """moto checks object ACLs for unsigned requests, as S3 does."""
    try:
        fetch(f"{endpoint}/{BUCKET}/private/{stored.pdf.name}")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    else:
        pytest.fail("an unsigned request read a private handout")


def test_the_archive_is_the_same_whether_read_one_or_eight_at_a_time(
    s3, stored, clinic, tmp_path, settings
):
    def media_members(readers: int) -> list[tuple[str, str, int]]:
        settings.BACKUP_READERS = readers
        path = tmp_path / f"backup-{readers}.tar"
        call_command("backup", output=path, stdout=io.StringIO())
        with tarfile.open(path) as tar:
            lines = gzip.decompress(tar.extractfile(backup.MANIFEST).read()).splitlines()
            names = [n for n in tar.getnames() if n.startswith("media/")]
        entries = [json.loads(line) for line in lines]
        listed = [(e["name"], e["sha256"], e["size"]) for e in entries if "name" in e]
        assert [name for name, _, _ in listed if name.startswith("media/")] == names
        return [entry for entry in listed if entry[0].startswith("media/")]

    one, eight = media_members(1), media_members(8)
    assert len(one) == 3 and one == eight


def test_a_clinic_video_goes_out_by_a_signed_address_of_a_minute(s3, client, alice, exercises):
    """A clinic's own video (exercises.ClinicMedia) is private: in the bucket's private
    part, and its printed link (/m/<key>) hands out a signed address, never cached."""
    from exercises.models import ClinicMedia
    from tests.exercises.video_files import mp4

    video = ClinicMedia.objects.create(
        clinic=alice.membership.clinic,
        exercise=exercises[0],
        kind=ClinicMedia.Kind.VIDEO,
        file=ContentFile(mp4(20), name="clip.mp4"),
        content_type="video/mp4",
        seconds=20,
    )
    assert f"private/{video.file.name}" in keys(s3)
    assert not is_public_read(s3, f"private/{video.file.name}")
    response = client.get(f"/m/{video.key}")
    assert response.status_code == 302 and "no-store" in response["Cache-Control"]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    body, headers = fetch(response["Location"])
    assert body == mp4(20) and headers["Content-Type"] == "video/mp4"
