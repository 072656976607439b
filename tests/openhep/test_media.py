"""No route serves a private file: every file in storage is walked and fetched."""

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from clinic.audit import Actor
from exercises.models import ExerciseImage
from prescriptions import services
from tests.clinic.test_images import picture


@pytest.fixture
def stored(settings, issued, alice, exercises, clinic):
    """One of each kind of stored file: a handout, a library picture, a logo."""
    clinic.logo.save("logo.png", ContentFile(picture().read()), save=True)
    image = ExerciseImage(exercise=exercises[0], alt_text="Start", is_main=True)
    image.image.save("start.png", ContentFile(picture().read()), save=True)
    services.prescription_new_version(prescription=issued, actor=Actor(alice))
    root = Path(settings.MEDIA_ROOT)
    files = sorted(
        str(Path(folder, name).relative_to(root))
        for folder, _dirs, names in os.walk(root)
        for name in names
    )
    assert any(f.startswith("handouts/") for f in files)
    assert any(f.startswith("exercises/") for f in files)
    assert any(f.startswith("clinics/logos/") for f in files)
    return files


def is_public(name: str) -> bool:
    return name.startswith(("exercises/", "clinics/logos/"))


def test_every_stored_file_is_served_only_if_public(client, clinic_admin, stored):
    client.force_login(clinic_admin)  # Even the clinic's own admin: handouts go through views.
    for name in stored:
        response = client.get(f"/media/{name}")
        if is_public(name):
            assert response.status_code == 200, name
            assert "public" in response["Cache-Control"]
        else:
            assert response.status_code == 404, name


def test_anonymous_visitors_get_pictures_but_no_handout(client, stored):
    for name in stored:
        assert client.get(f"/media/{name}").status_code == (200 if is_public(name) else 404)


@pytest.mark.parametrize(
    "path",
    [
        "exercises/../handouts/x.pdf",
        "exercises/%2e%2e/handouts/x.pdf",
        "exercises/..%2fhandouts/x.pdf",
        "/etc/passwd",
        "exercises\\..\\handouts\\x.pdf",
        "exercises/%00.png",
    ],
)
def test_tricks_to_climb_out_of_the_public_folders_fail(client, stored, path):
    assert client.get(f"/media/{path}").status_code == 404


@pytest.mark.parametrize("accel", ["", "/_protected/"])
def test_a_private_file_goes_only_to_its_own_clinic(
    client, settings, alice, charlie, issued, accel
):
    """Anonymous: to sign-in; another clinic: 404; the clinic's own staff: the file,
    streamed by the app or, behind nginx, by the proxy (X-Accel-Redirect)."""
    settings.OPENHEP_MEDIA_ACCEL_REDIRECT = accel
    url = f"/prescriptions/{issued.pk}/handout.pdf"
    assert client.get(url).status_code == 302
    client.force_login(charlie)
    response = client.get(url)
    assert response.status_code == 404 and "X-Accel-Redirect" not in response
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'inline; filename="handout-{issued.pk}.pdf"'
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    if accel:
        assert response["X-Accel-Redirect"] == f"/_protected/{issued.handout.pdf.name}"
        assert response.content == b""
    else:
        assert "X-Accel-Redirect" not in response
        assert b"".join(response.streaming_content) == issued.handout.pdf.open("rb").read()
