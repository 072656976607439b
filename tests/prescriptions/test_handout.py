import hashlib
import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from weasyprint import HTML

from clinic.audit import Actor
from exercises.models import ExerciseImage
from prescriptions import handouts, services
from prescriptions.selectors import get_prescription_for, handout_snapshot
from tests.helpers import http_listener, pdf_reader, pdf_text, printed_pictures

# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
    "f8ffff3f0005fe02fea7d6a5c00000000049454e44ae426082"
)


def test_draft_handout_has_patient_exercises_doses_and_draft_marks(alice_client, draft):
    response = alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in [
        "Northside Myotherapy",
        "Jordan Ellis",
        "Hips and back",
        "Standing psoas stretch",
        "Stand side-on to a wall.",
        "Step the outside leg back.",
        "Hold 30 seconds · 3 repetitions · twice a day Both sides, one after the other",
        "Hold 30 seconds · 2 repetitions · twice a day Both sides, one after the other",
        "12 repetitions, 3 sets · once a day · 4 days a week",
        "Keep your back from arching.",
        "Stop if you feel pinching.",
    ]:
        assert expected in text, expected
    reader = pdf_reader(response.content)
    assert all("DRAFT" in page.extract_text() for page in reader.pages)
    assert reader.metadata.title == "Hips and back – Jordan Ellis"
    assert reader.metadata.author == "Northside Myotherapy"


def test_issued_handout_is_stored_and_served_byte_for_byte(alice_client, issued):
    handout = issued.handout
    stored = handout.pdf.read()
    assert hashlib.sha256(stored).hexdigest() == handout.sha256 and len(stored) == handout.size
    served = b"".join(
        alice_client.get(reverse("prescriptions:handout", args=[issued.pk])).streaming_content
    )
    assert served == stored
    assert "DRAFT" not in pdf_text(served)
    assert [i["name"] for i in handout.snapshot["items"]] == [
        "Standing psoas stretch",
        "Standing quadriceps stretch",
        "Glute bridge",
    ]


def test_serving_a_stored_handout_reads_only_what_it_needs(
    alice_client, issued, django_assert_num_queries
):
    """Every download reads one prescription row: not the snapshot, the patient's record
    or the program's notes, and no column is loaded later one by one (a deferred field
    read would be a query of its own)."""
    url = reverse("prescriptions:handout", args=[issued.pk])
    alice_client.get(url)  # Anything a first request of the session loads once.
    # The session, the user with their clinic, the prescription, the audit row.
    with django_assert_num_queries(4) as captured:
        response = alice_client.get(url)
        b"".join(response.streaming_content)
    [read] = [
        q["sql"] for q in captured.captured_queries if "prescriptions_prescription" in q["sql"]
    ]
    for column in ("snapshot", "notes", "advice", "first_name", "date_of_birth", "email"):
        assert f'."{column}"' not in read, column
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a_missing_handout_file_is_a_clear_page_and_an_error_in_the_log(
    alice_client, issued, caplog
):
    default_storage.delete(issued.handout.pdf.name)
    with caplog.at_level(logging.ERROR, logger="prescriptions.views"):
        response = alice_client.get(reverse("prescriptions:handout", args=[issued.pk]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "The stored handout file is missing" in page
    assert "restore it from a backup" in page
    [record] = [r for r in caplog.records if r.name == "prescriptions.views"]
    assert record.levelno == logging.ERROR
    assert f"prescription {issued.pk}" in record.getMessage()
    assert "Jordan" not in record.getMessage()


def test_library_edits_never_change_an_issued_handout(alice_client, issued, exercises):
    before = b"".join(
        alice_client.get(reverse("prescriptions:handout", args=[issued.pk])).streaming_content
    )
    psoas = exercises[0]
    psoas.name = "Renamed stretch"
    psoas.save()
    psoas.steps.update(text="Different words.")
    issued.clinic.name = "Rebranded clinic"
    issued.clinic.save()
    after = b"".join(
        alice_client.get(reverse("prescriptions:handout", args=[issued.pk])).streaming_content
    )
    assert after == before
    assert "Standing psoas stretch" in pdf_text(after)


def test_a_failed_render_keeps_the_issue_and_stores_no_file(draft, alice, monkeypatch):
    """Issuing no longer depends on WeasyPrint: the program is issued, its handout is
    marked failed (to try again, tests/prescriptions/test_handout_task.py), no file."""

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(handouts, "render_pdf", broken)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    draft.refresh_from_db()
    assert draft.status == "issued" and draft.issued_at is not None
    assert handout.status == "failed" and not handout.pdf and handout.sha256 == ""


def test_user_text_is_escaped_in_the_handout(alice_client, draft, exercises):
    hostile = '<img src="file:///etc/passwd"><b>bold</b>'
    exercises[0].name = hostile
    exercises[0].save()
    draft.advice = "<script>alert(1)</script>"
    draft.save()
    html = handouts.render_html(handout_snapshot(draft), draft=True)
    assert hostile not in html and "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    assert "<script>" not in html
    text = pdf_text(alice_client.get(reverse("prescriptions:handout", args=[draft.pk])).content)
    assert "<b>bold</b>" in text and "<script>alert(1)</script>" in text


def test_main_image_is_embedded_from_media(alice_client, draft, exercises):
    image = ExerciseImage(exercise=exercises[0], alt_text="A person lunging", is_main=True)
    image.image.save("psoas.png", ContentFile(PNG), save=True)
    rx = get_prescription_for(draft.therapist, draft.pk)
    html = handouts.render_html(handout_snapshot(rx), draft=True)
    assert (
        'src="media:exercises/psoas-stretch-standing/psoas' in html
        and 'alt="A person lunging"' in html
    )
    pdf = services.handout_render_draft(prescription=rx)
    page = pdf_reader(pdf).pages[0]
    assert len(printed_pictures(page)) == 1


class TestFetcher:
    """The renderer fetches only our static and media files."""

    def render(self, html):
        return HTML(string=html, url_fetcher=handouts.HandoutURLFetcher()).write_pdf()

    def test_remote_urls_and_redirects_never_reach_the_network(self, caplog):
        with (
            http_listener() as (base, requests),
            caplog.at_level(logging.WARNING, logger="prescriptions.handouts"),
        ):
            pdf = self.render(
                f'<link rel="stylesheet" href="{base}/style.css">'
                f'<img src="{base}/pixel.png"><img src="https://{base[7:]}/x.png">'
                f'<style>@import url("{base}/import.css");'
                f" body {{ background: url({base}/bg.png) }}</style>"
                f"<p>Still rendered</p>"
            )
        assert requests == []
        assert "Still rendered" in pdf_text(pdf)
        assert caplog.text.count("refused") >= 4

    @pytest.mark.parametrize(
        "url",
        [
            "file:///etc/passwd",
            "file://otherhost/etc/passwd",
            "static:../../../../etc/passwd",
            "static:/etc/passwd",
            "media:../../etc/passwd",
            "ftp://127.0.0.1/x",
            "data:text/html,<h1>x</h1>",
        ],
    )
    def test_paths_outside_static_and_media_are_refused(self, url):
        with pytest.raises(handouts.RefusedResource):
            handouts.HandoutURLFetcher().fetch(url)

    def test_symlink_out_of_media_is_refused(self, settings, tmp_path):
        secret = tmp_path / "secret.txt"
        secret.write_text("secret")
        media = settings.MEDIA_ROOT
        media.mkdir(parents=True, exist_ok=True)
        (media / "link.png").symlink_to(secret)
        with pytest.raises(handouts.RefusedResource):
            handouts.HandoutURLFetcher().fetch(f"file://{media / 'link.png'}")

    def test_own_static_media_and_data_images_are_served(self, settings):
        default_storage.save("ok.png", ContentFile(PNG))
        fetcher = handouts.HandoutURLFetcher()
        assert fetcher.fetch("static:handouts/handout.css").read().startswith(b"/*")
        assert fetcher.fetch("media:ok.png").read() == PNG
        assert fetcher.fetch(f"file://{settings.MEDIA_ROOT / 'ok.png'}").read() == PNG
        assert fetcher.fetch("data:image/png;base64,iVBORw0KGgo=").read().startswith(b"\x89PNG")


def test_hostile_image_paths_in_the_database_are_refused(alice_client, draft, exercises, caplog):
    for name in ("../../../../etc/passwd", "/etc/passwd", "http://127.0.0.1:9/x.png"):
        ExerciseImage.objects.filter(exercise=exercises[0]).delete()
        ExerciseImage.objects.create(exercise=exercises[0], image=name, alt_text="x", is_main=True)
        with caplog.at_level(logging.WARNING, logger="prescriptions.handouts"):
            response = alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
        assert response.status_code == 200
        reader = pdf_reader(response.content)
        assert all(not printed_pictures(page) for page in reader.pages)
        assert "root:" not in pdf_text(response.content)
        assert "refused" in caplog.text
        caplog.clear()


def test_the_web_worker_prepares_fonts_and_stylesheet_at_start(monkeypatch, settings):
    import importlib

    # The suite's settings are a developer's (SQLite, immediate tasks): say so, as an
    # operator would, or the web process refuses to start (openhep/checks.py).
    settings.OPENHEP_ALLOW_SQLITE_IN_PRODUCTION = True
    settings.OPENHEP_ALLOW_IMMEDIATE_TASKS = True

    handouts.stylesheet.cache_clear()
    import openhep.wsgi

    importlib.reload(openhep.wsgi)
    assert handouts.stylesheet.cache_info().currsize == 1


def test_downloads_are_named_by_id_not_by_patient(alice_client, issued, draft):
    response = alice_client.get(reverse("prescriptions:handout", args=[issued.pk]))
    assert f'filename="handout-{issued.pk}.pdf"' in response["Content-Disposition"]
    assert "ellis" not in response["Content-Disposition"].lower()
