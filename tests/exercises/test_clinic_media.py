"""A clinic's own photos and video for an exercise: checked by content, limited in size
and length, stored privately, seen only by that clinic, printed on its handouts."""

import io

import pytest
from django.conf import settings as settings_module
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from PIL import Image

from clinic.audit import Actor
from clinic.models import AuditEntry
from clinic.storage import alias_of
from exercises.media_services import clinic_media_remove, clinic_video_link_save
from exercises.models import ClinicMedia
from exercises.video_probe import VideoProblem, probe_video
from openhep.middleware import LimitedUploadHandler, RequestSizeLimitMiddleware, body_limit
from prescriptions import services
from prescriptions.selectors import handout_snapshot, prescription_for_handout
from tests.exercises.video_files import mp4, webm
from tests.factories import ExerciseFactory, PrescriptionFactory


def png(size=(64, 48), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def shared(db):
    return ExerciseFactory(name="Wall angel", video_url="https://youtu.be/library-angel")


def upload_video(client, exercise, data: bytes, name="clip.mp4", caption="Our wall angel"):
    return client.post(
        reverse("exercises:media_video", args=[exercise.slug]),
        {"video-video": SimpleUploadedFile(name, data, "video/mp4"), "video-caption": caption},
    )


def refused(response) -> str:
    assert response.status_code == 400
    return response.content.decode()


# The containers, read in pure Python.


@pytest.mark.parametrize(
    ("data", "container", "seconds"),
    [
        (mp4(12), "mp4", 12),
        (mp4(200.5, version=1, timescale=90_000), "mp4", 200.5),
        (mp4(9, moov_last=False), "mp4", 9),
        (mp4(fragmented=33), "mp4", 33),
        (mp4(5, brands=(b"mp42", b"mp41")), "mp4", 5),
        (webm(12), "webm", 12),
        (webm(7.5, float_bytes=4), "webm", 7.5),
        (webm(61, unknown_segment=True), "webm", 61),
        (webm(30, scale=1000), "webm", 30),
    ],
    ids=["mp4", "mp4-v1", "moov-first", "fragmented", "mp42", "webm", "float32", "live", "scale"],
)
def test_the_length_is_read_from_the_container(data, container, seconds):
    info = probe_video(io.BytesIO(data))
    assert (info.container, info.seconds) == (container, pytest.approx(seconds))
    assert info.content_type == f"video/{container}"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (png(), "is a PNG picture"),
        (b"just some notes\n", "is a text file"),
        (b"<!doctype html><p>hi", "web page"),
        (b"%PDF-1.7\n", "PDF document"),
        (b"", "is empty"),
        (mp4(brands=(b"qt  ",)), "QuickTime (.mov)"),
        (mp4(brands=(b"XXXX",)), "brand 'XXXX'"),
        (mp4(handler=b"soun"), "no video track"),
        (mp4(0), "does not say how long"),
        (mp4()[:60], "damaged or cut short"),
        (webm(doctype=b"matroska"), "Matroska (.mkv)"),
        (webm(None), "does not say how long"),
        (webm(track_type=2), "no video track"),
    ],
)
def test_anything_else_is_refused_naming_what_it_is(data, words):
    with pytest.raises(VideoProblem, match=words.replace("(", r"\(").replace(")", r"\)")):
        probe_video(io.BytesIO(data))


# Uploads through the exercise page.


def test_a_therapist_adds_an_mp4_to_a_shared_exercise(alice_client, clinic, alice, shared):
    response = upload_video(alice_client, shared, mp4(42))
    assert response.status_code == 302 and response.url.endswith("#clinic-media")
    media = ClinicMedia.objects.get(clinic=clinic, exercise=shared)
    assert (media.kind, media.content_type, media.seconds) == ("video", "video/mp4", 42)
    assert media.caption == "Our wall angel" and media.created_by == alice
    # Private: the default storage, under a name no one can guess; the exercise untouched.
    assert alias_of(media.file.storage) == "default"
    assert media.file.name.startswith(f"clinic-media/{clinic.pk}/")
    assert media.file.name.endswith(".mp4") and "clip" not in media.file.name
    with media.file.open("rb") as f:
        assert f.read() == mp4(42)
    shared.refresh_from_db()
    assert shared.video_url == "https://youtu.be/library-angel"
    entry = AuditEntry.objects.get(clinic=clinic)
    assert (entry.action, entry.actor, entry.patient) == ("settings", alice, None)
    assert entry.detail == f"Video file added: exercise {shared.slug}"
    page = alice_client.get(shared.get_absolute_url()).content.decode()
    assert "Our wall angel" in page and "0 min 42 s" not in page and "42 s" in page
    assert reverse("exercises:media_file", args=[shared.slug, media.pk]) in page


def test_a_webm_is_accepted_by_its_content_whatever_its_name(alice_client, clinic, shared):
    response = upload_video(alice_client, shared, webm(95), name="holiday.txt")
    assert response.status_code == 302
    media = ClinicMedia.objects.get(clinic=clinic)
    assert (media.content_type, media.seconds) == ("video/webm", 95)
    assert media.file.name.endswith(".webm")
    page = alice_client.get(shared.get_absolute_url()).content.decode()
    assert "1 min 35 s" in page


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (png(), "angel.mp4", "This file is a PNG picture, not a video we accept"),
        (b"not a video at all", "angel.mp4", "This file is a text file"),
        (mp4(brands=(b"qt  ",)), "angel.mov", "QuickTime (.mov)"),
        (webm(None), "angel.webm", "does not say how long it is"),
    ],
)
def test_a_wrong_or_unreadable_file_is_refused_and_nothing_saved(
    alice_client, shared, data, name, words
):
    page = refused(upload_video(alice_client, shared, data, name=name))
    assert words in page
    assert '<details class="mb-2" open>' in page  # the form with its message, open
    assert not ClinicMedia.objects.exists() and not AuditEntry.objects.exists()


def test_an_oversize_video_is_refused(alice_client, shared, settings):
    settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES = 1024 * 1024
    page = refused(upload_video(alice_client, shared, mp4(10, mdat=1_300_000)))
    assert "The video is 1.2 MB; the limit is 1 MB." in page
    assert not ClinicMedia.objects.exists()
    assert not list(_stored_names())


def test_a_video_too_long_is_refused(alice_client, shared, settings):
    settings.OPENHEP_CLINIC_VIDEO_MAX_SECONDS = 60
    page = refused(upload_video(alice_client, shared, webm(61.4)))
    assert "The video runs 1 minute 1 seconds; the limit is 1 minute." in page
    assert not ClinicMedia.objects.exists()


def _stored_names():
    storage = storages["default"]
    if not storage.exists("clinic-media"):
        return
    for folder in storage.listdir("clinic-media")[0]:
        yield from storage.listdir(f"clinic-media/{folder}")[1]


def test_a_new_video_replaces_the_old_in_place_and_its_file_goes_after_commit(
    alice_client, clinic, shared, django_capture_on_commit_callbacks
):
    upload_video(alice_client, shared, mp4(20))
    first = ClinicMedia.objects.get()
    old_name = first.file.name
    with django_capture_on_commit_callbacks(execute=True):
        upload_video(alice_client, shared, webm(30), name="new.webm", caption="Take two")
    media = ClinicMedia.objects.get()
    # The same row and key: handouts printed with the old video open the new one.
    assert (media.pk, media.key) == (first.pk, first.key)
    assert (media.content_type, media.seconds, media.caption) == ("video/webm", 30, "Take two")
    assert not storages["default"].exists(old_name) and media.file.name != old_name
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("exercises:media_link", args=[shared.slug]),
            {"link-url": "https://vimeo.com/123", "link-caption": ""},
        )
    assert response.status_code == 302
    media = ClinicMedia.objects.get()
    assert (media.pk, media.kind, media.url, media.file.name) == (
        first.pk,
        "link",
        "https://vimeo.com/123",
        "",
    )
    assert not list(_stored_names())
    details = list(AuditEntry.objects.order_by("pk").values_list("detail", flat=True))
    assert [d.split(":")[0] for d in details] == [
        "Video file added",
        "Video file replaced",
        "Video link replaced",
    ]


def test_a_video_link_must_be_https(alice_client, shared):
    page = refused(
        alice_client.post(
            reverse("exercises:media_link", args=[shared.slug]),
            {"link-url": "http://example.org/video"},
        )
    )
    assert "it must start with https://" in page
    response = alice_client.post(
        reverse("exercises:media_link", args=[shared.slug]), {"link-url": "example.org/v"}
    )
    assert response.status_code == 302
    assert ClinicMedia.objects.get().url == "https://example.org/v"


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.cookie)", "data:text/html,<b>x</b>", "http://example.org/v"]
)
def test_a_link_that_is_not_https_is_never_linked_or_followed(
    alice, alice_client, client, clinic, shared, url
):
    """The form takes only https links, but a row can also come from an archive or the
    shell: the staff page shows such an address as text, the short link refuses it."""
    media = clinic_video_link_save(
        clinic=clinic, exercise=shared, url="https://youtu.be/ours", caption="", actor=Actor(alice)
    )
    ClinicMedia.objects.filter(pk=media.pk).update(url=url)
    page = alice_client.get(reverse("exercises:detail", args=[shared.slug])).content.decode()
    assert "not an https address: not linked" in page
    assert f'href="{url}' not in page and 'href="javascript:' not in page
    assert client.get(f"/m/{media.key}").status_code == 404
    ClinicMedia.objects.filter(pk=media.pk).update(url="https://youtu.be/ours")
    page = alice_client.get(reverse("exercises:detail", args=[shared.slug])).content.decode()
    assert 'href="https://youtu.be/ours"' in page and "not linked" not in page


def test_photos_are_checked_re_encoded_and_limited(alice_client, clinic, shared, settings):
    settings.OPENHEP_CLINIC_PHOTOS_PER_EXERCISE = 2
    url = reverse("exercises:media_photo", args=[shared.slug])
    page = refused(
        alice_client.post(
            url,
            {"photo-photo": SimpleUploadedFile("a.png", b"not a picture"), "photo-caption": "x"},
        )
    )
    assert "not a picture we can read" in page
    page = refused(alice_client.post(url, {"photo-photo": SimpleUploadedFile("a.png", png())}))
    assert "This field is required" in page  # what it shows, for screen readers
    for caption in ("Start position", "End position"):
        response = alice_client.post(
            url, {"photo-photo": SimpleUploadedFile("a.png", png()), "photo-caption": caption}
        )
        assert response.status_code == 302
    page = alice_client.get(shared.get_absolute_url()).content.decode()
    assert 'alt="Start position"' in page and "the most photos an exercise can have" in page
    page = refused(
        alice_client.post(
            url, {"photo-photo": SimpleUploadedFile("a.png", png()), "photo-caption": "Third"}
        )
    )
    assert "An exercise can have 2 of your clinic&#x27;s photos" in page
    photo = ClinicMedia.objects.filter(kind="photo").first()
    response = alice_client.get(reverse("exercises:media_file", args=[shared.slug, photo.pk]))
    assert response["Content-Type"] == "image/png" and "private" in response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert image.size == (64, 48)


def test_removing_takes_the_file_and_leaves_an_entry(
    alice_client, clinic, shared, django_capture_on_commit_callbacks
):
    upload_video(alice_client, shared, mp4(20))
    media = ClinicMedia.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("exercises:media_remove", args=[shared.slug, media.pk])
        )
    assert response.status_code == 302
    assert not ClinicMedia.objects.exists() and not list(_stored_names())
    assert AuditEntry.objects.filter(clinic=clinic, detail__startswith="Video file removed")


# Another clinic sees nothing of it.


def test_another_clinic_gets_404_and_sees_nothing(alice_client, charlie, clinic, shared):
    own = ExerciseFactory(name="Our angel", clinic=clinic)
    upload_video(alice_client, shared, mp4(20), caption="Northside angel")
    media = ClinicMedia.objects.get()
    client = Client()
    client.force_login(charlie)
    page = client.get(shared.get_absolute_url()).content.decode()
    assert "Northside angel" not in page and "None yet" in page
    for name in ("media_file", "media_remove"):
        url = reverse(f"exercises:{name}", args=[shared.slug, media.pk])
        assert client.get(url).status_code in (404, 405)
        assert client.post(url).status_code in (404, 405)
    # Their own exercise's pages and forms, to another clinic: 404.
    assert client.get(own.get_absolute_url()).status_code == 404
    assert upload_video(client, own, mp4(5)).status_code == 404
    assert ClinicMedia.objects.get() == media and ClinicMedia.objects.count() == 1
    # Charlie's own video for the same shared exercise is Charlie's clinic's alone.
    assert upload_video(client, shared, webm(5), caption="Southbank angel").status_code == 302
    page = alice_client.get(shared.get_absolute_url()).content.decode()
    assert "Northside angel" in page and "Southbank angel" not in page


def test_anonymous_visitors_are_sent_to_sign_in(client, shared):
    for url in (
        reverse("exercises:media_video", args=[shared.slug]),
        reverse("exercises:media_file", args=[shared.slug, 1]),
    ):
        response = client.post(url) if "video" in url else client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


# The short link printed on the handout.


def test_the_handout_prints_the_clinics_video_link(
    alice_client, clinic, alice, patient, shared, settings
):
    settings.SITE_URL = "https://hep.northside.example"
    other = ExerciseFactory(name="Bird dog", video_url="https://youtu.be/bird")
    upload_video(alice_client, shared, mp4(20))
    media = ClinicMedia.objects.get()
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    for exercise in (shared, other):
        services.prescription_add_exercise(prescription=rx, exercise=exercise, actor=Actor(alice))
    snapshot = handout_snapshot(prescription_for_handout(rx.pk))
    angel, bird = snapshot["items"]
    assert angel["video_link"] == f"https://hep.northside.example/m/{media.key}"
    assert bird["video_link"] == f"https://hep.northside.example/v/{other.slug}"
    services.prescription_issue(prescription=rx, actor=Actor(alice))
    rx.refresh_from_db()
    assert rx.handout.snapshot["items"][0]["video_link"].endswith(f"/m/{media.key}")
    # Without SITE_URL a clinic's link is printed as it is; a file has no address then.
    settings.SITE_URL = ""
    assert handout_snapshot(prescription_for_handout(rx.pk))["items"][0]["video_link"] == (
        "https://youtu.be/library-angel"
    )
    clinic_video_link_save(
        clinic=clinic,
        exercise=shared,
        url="https://clinic.example/angel",
        caption="",
        actor=Actor(alice),
    )
    assert handout_snapshot(prescription_for_handout(rx.pk))["items"][0]["video_link"] == (
        "https://clinic.example/angel"
    )


def test_another_clinics_video_never_reaches_this_clinics_handout(
    charlie, alice, patient, shared, settings
):
    settings.SITE_URL = "https://hep.example"
    client = Client()
    client.force_login(charlie)
    upload_video(client, shared, mp4(20))
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    services.prescription_add_exercise(prescription=rx, exercise=shared, actor=Actor(alice))
    [item] = handout_snapshot(prescription_for_handout(rx.pk))["items"]
    assert item["video_link"] == f"https://hep.example/v/{shared.slug}"


def test_the_short_link_streams_the_file_with_ranges(alice_client, client, shared):
    data = mp4(20)
    upload_video(alice_client, shared, data)
    media = ClinicMedia.objects.get()
    url = reverse("clinic_media", args=[media.key])
    assert url == f"/m/{media.key}" and len(media.key) == 8
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert b"".join(response.streaming_content) == data
    response = client.get(url, headers={"Range": "bytes=4-11"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 4-11/{len(data)}"
    assert b"".join(response.streaming_content) == data[4:12] == b"ftypisom"
    response = client.get(url, headers={"Range": "bytes=-4"})
    assert b"".join(response.streaming_content) == data[-4:]
    response = client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{len(data)}"
    assert client.get("/m/AAAAAAAA").status_code == 404


def test_the_short_link_goes_to_a_link_like_the_librarys(alice, client, clinic, shared, settings):
    media = clinic_video_link_save(
        clinic=clinic, exercise=shared, url="https://youtu.be/ours", caption="", actor=Actor(alice)
    )
    response = client.get(f"/m/{media.key}")
    assert response.status_code == 302 and response.url == "https://youtu.be/ours"
    clinic_video_link_save(
        clinic=clinic,
        exercise=shared,
        url="https://clips.example/angel",
        caption="",
        actor=Actor(alice),
    )
    response = client.get(f"/m/{media.key}")
    assert response.status_code == 200 and "clips.example" in response.content.decode()
    clinic_media_remove(media=ClinicMedia.objects.get(), actor=Actor(alice))
    assert client.get(f"/m/{media.key}").status_code == 404


# The upload's size limit holds while it is read.


def _signed_in(request, client):
    """``request`` carrying ``client``'s session cookie, as the browser sends it."""
    name = settings_module.SESSION_COOKIE_NAME
    request.COOKIES[name] = client.cookies[name].value
    return request


def test_only_the_video_upload_may_send_a_larger_body(rf, shared, settings, alice_client):
    """Only a signed-in session's video upload: an anonymous post to the same address is
    refused at the usual limit before a byte is read (the CSRF check reads the body
    before sign-in has run)."""
    settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES = 50 * 1024 * 1024
    url = reverse("exercises:media_video", args=[shared.slug])
    video = _signed_in(rf.post(url), alice_client)
    photo = _signed_in(rf.post(reverse("exercises:media_photo", args=[shared.slug])), alice_client)
    anonymous, forged = rf.post(url), rf.post(url)
    forged.COOKIES[settings.SESSION_COOKIE_NAME] = "not-a-session"
    assert body_limit(video) == 56 * 1024 * 1024
    assert body_limit(photo) == settings.OPENHEP_MAX_REQUEST_BYTES
    assert body_limit(anonymous) == body_limit(forged) == settings.OPENHEP_MAX_REQUEST_BYTES
    reached = []
    middleware = RequestSizeLimitMiddleware(reached.append)
    for request, length, passes in (
        (video, 40, True),
        (video, 60, False),
        (photo, 40, False),
        (anonymous, 40, False),
        (forged, 40, False),
    ):
        request.META["CONTENT_LENGTH"] = str(length * 1024 * 1024)
        response = middleware(request)
        assert (response is None) == passes
        if not passes:
            assert response.status_code == 413
    assert "A clinic video can be up to 50 MB" in middleware(video).content.decode()


def test_a_video_upload_goes_to_a_temporary_file_and_stops_at_its_limit(
    shared, settings, alice_client
):
    from django.core.files.uploadhandler import StopFutureHandlers, StopUpload

    settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES = 4096
    settings.OPENHEP_MAX_REQUEST_BYTES = 1024
    url = reverse("exercises:media_video", args=[shared.slug])
    request = _signed_in(RequestFactory().post(url), alice_client)
    handler = LimitedUploadHandler(request)
    handler.handle_raw_input(None, request.META, None, b"x")
    with pytest.raises(StopFutureHandlers):
        handler.new_file("video-video", "clip.mp4", "video/mp4", None)
    handler.receive_data_chunk(b"0" * 3000, 0)
    assert hasattr(handler.file, "temporary_file_path")  # on disk, not in memory
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"0" * 3000, 3000)


# Back-ups carry them.


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_the_clinics_video_and_photo(alice_client, shared, tmp_path):
    import shutil

    from django.conf import settings as django_settings
    from django.core.management import call_command

    upload_video(alice_client, shared, webm(33))
    alice_client.post(
        reverse("exercises:media_photo", args=[shared.slug]),
        {"photo-photo": SimpleUploadedFile("a.png", png()), "photo-caption": "Arms up"},
    )
    before = {m.key: (m.kind, m.file.name, m.file.read()) for m in ClinicMedia.objects.all()}
    assert len(before) == 2
    path, out = tmp_path / "b.tar", io.StringIO()
    call_command("backup", output=path, stdout=out)
    assert "2 media files" in out.getvalue()
    ClinicMedia.objects.all().delete()
    shutil.rmtree(django_settings.MEDIA_ROOT)

    call_command("restore", str(path), yes=True, stdout=io.StringIO())

    after = {m.key: (m.kind, m.file.name, m.file.read()) for m in ClinicMedia.objects.all()}
    assert after == before
