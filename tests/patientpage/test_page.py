"""The patient's page at /p/<token>/: what it shows, who it refuses, and how."""

import datetime
import io
import json
import logging
import uuid

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry
from openhep.logs import JsonFormatter, NoProgramTokensFilter, sentry_before_breadcrumb
from patientpage import views
from patientpage.models import SessionExercise, SessionLog
from prescriptions import links, services
from prescriptions.models import ProgramLink
from prescriptions.services.links import program_link_renew, program_link_turn_off
from tests.factories import ItemFactory
from tests.patientpage.conftest import token_of
from tests.prescriptions.test_handout_layout import decoded_qr_codes


def post_json(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def report(issued, **changes):
    body = {
        "session": str(uuid.uuid4()),
        "started_at": timezone.now().isoformat(),
        "done": [],
    }
    return {**body, **changes}


def item_ids(prescription) -> list[int]:
    return list(prescription.items.order_by("order").values_list("pk", flat=True))


# What the page shows.


def test_the_page_shows_the_program_and_the_first_name_only(client, issued, page_url, patient):
    patient.date_of_birth = datetime.date(1961, 4, 9)
    patient.phone = "0400 111 222"
    patient.save()
    response = client.get(page_url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello Jordan" in html
    for private in ("Ellis", "jordan@patient.example", "0400 111 222", "1961"):
        assert private not in html
    for card in issued.handout.snapshot["items"]:
        assert card["name"] in html and card["dose"] in html
    assert 'name="robots" content="noindex, nofollow"' in html


def test_the_page_shows_the_latest_version_under_the_same_link(client, issued, alice, page_url):
    draft = services.prescription_new_version(prescription=issued, actor=Actor(alice))
    draft.title = "Week two"
    draft.save()
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert token_of(draft) == page_url.split("/")[2]
    assert "Week two" in client.get(page_url).content.decode()
    # The new handout prints the same code as the first.
    pdf = draft.handout.pdf.open("rb").read()
    assert decoded_qr_codes(pdf, page_link=True) == [links.page_url(token_of(draft))]


def test_the_handout_prints_the_page_link_as_a_qr_code(issued, page_url):
    pdf = issued.handout.pdf.open("rb").read()
    assert decoded_qr_codes(pdf, page_link=True) == [f"http://127.0.0.1:8000{page_url}"]


@override_settings(SITE_URL="https://hep.northside.example")
def test_with_a_site_url_the_code_opens_the_public_address(draft, alice):
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    pdf = draft.handout.pdf.open("rb").read()
    token = token_of(draft)
    assert decoded_qr_codes(pdf, page_link=True) == [f"https://hep.northside.example/p/{token}/"]


def test_a_second_program_gets_its_own_link(issued, patient, alice, exercises):
    other = services.prescription_create(patient=patient, actor=Actor(alice), title="Shoulder")
    services.prescription_add_exercise(
        prescription=other, exercise=exercises[0], actor=Actor(alice)
    )
    services.prescription_issue(prescription=other, actor=Actor(alice))
    assert token_of(other) != token_of(issued)


def test_the_token_is_not_stored(issued, link):
    token = token_of(issued)
    stored = json.dumps(issued.handout.snapshot) + link.nonce + link.token_hash
    assert token not in stored and link.token_hash == links.hash_token(token)


def test_a_token_typed_from_paper_is_found(client, issued, page_url):
    token = page_url.split("/")[2]
    typed = "-".join(token[i : i + 4] for i in range(0, len(token), 4)).upper()
    response = client.get(f"/p/{typed}/")
    assert response.status_code == 302 and response.url == page_url


def test_opening_is_the_patients_audited_read(client, issued, page_url, link):
    client.get(page_url, REMOTE_ADDR="203.0.113.9")
    entry = AuditEntry.objects.filter(
        target=f"program link {link.pk}", detail="Patient page opened"
    )
    assert entry.get().actor_email == "patient (own page)"
    assert entry.get().ip_address == "203.0.113.9"
    link.refresh_from_db()
    assert link.last_opened_at is not None


def test_the_offline_copy_is_not_a_second_open(client, issued, page_url):
    client.get(page_url, HTTP_X_OPENHEP_OFFLINE_COPY="1")
    assert not AuditEntry.objects.filter(detail="Patient page opened").exists()


def test_page_answers_carry_privacy_headers(client, issued, page_url):
    for url in (page_url, "/p/" + "a" * 26 + "/"):
        response = client.get(url)
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_manifest_and_the_worker(client, issued, page_url):
    manifest = client.get(page_url + "manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == page_url
    for icon in manifest.json()["icons"]:
        assert icon["src"].startswith("/static/patientpage/icon-")
    worker = client.get("/p/sw.js")
    assert worker["Service-Worker-Allowed"] == "/p/"
    assert b"addEventListener" in worker.content


# Every refusal looks the same.


def gone_page(client, url):
    response = client.get(url)
    return response.status_code, response.content.decode()


@pytest.fixture
def plain_404(client, db):
    return gone_page(client, "/p/" + "b" * 26 + "/")


def test_an_unknown_token_gets_the_plain_404(plain_404):
    status, html = plain_404
    assert status == 404 and "This page is not available" in html


def test_a_turned_off_link_looks_like_one_that_never_existed(
    client, issued, page_url, link, alice, plain_404
):
    program_link_turn_off(link=link, actor=Actor(alice))
    assert gone_page(client, page_url) == plain_404


def test_a_replaced_link_stops_and_the_new_one_opens(
    client, issued, page_url, link, alice, plain_404
):
    new, token = program_link_renew(link=link, actor=Actor(alice))
    assert gone_page(client, page_url) == plain_404
    assert client.get(f"/p/{token}/").status_code == 200


def test_an_archived_patient_s_page_is_gone(client, issued, page_url, patient, plain_404):
    patient.archived = True
    patient.save()
    assert gone_page(client, page_url) == plain_404


def test_the_page_closes_the_clinic_s_days_after_the_review(
    client, issued, page_url, clinic, plain_404
):
    issued.review_date = timezone.localdate() - datetime.timedelta(days=31)
    issued.save()
    clinic.program_link_days = 30
    clinic.save()
    assert gone_page(client, page_url) == plain_404
    clinic.program_link_days = 31
    clinic.save()
    assert client.get(page_url).status_code == 200
    clinic.program_link_days = 0  # Open until turned off.
    clinic.save()
    assert client.get(page_url).status_code == 200


def test_a_malformed_token_gets_the_plain_404(client, plain_404):
    assert gone_page(client, "/p/not-a-real-token-at-all-x/") == plain_404


def test_an_erased_patient_s_page_is_gone_with_its_sessions(
    client, issued, page_url, patient, clinic_admin, plain_404
):
    from records.services import patient_erase

    post_json(client, page_url + "session/", report(issued, done=item_ids(issued)[:1]))
    patient_erase(patient=patient, actor=Actor(clinic_admin))
    assert gone_page(client, page_url) == plain_404
    assert not ProgramLink.objects.exists() and not SessionLog.objects.exists()


def test_guessing_is_limited_and_logged(client, issued, page_url, caplog):
    for n in range(views.GUESS_LIMIT):
        assert client.get(f"/p/{'c' * 25}{'abcdefghijklmnopqrstuvwxyz'[n]}/").status_code == 404
    assert client.get("/p/" + "d" * 26 + "/").status_code == 429
    # Past the limit even the right token opens nothing from that address...
    assert client.get(page_url).status_code == 429
    # ...while another address is not held up.
    assert client.get(page_url, REMOTE_ADDR="198.51.100.7").status_code == 200
    assert "a link that opens nothing was tried" in caplog.text


# The birth year, when the clinic asks for it.


@pytest.fixture
def with_birth_year(clinic, patient):
    clinic.program_link_birth_year = True
    clinic.save()
    patient.date_of_birth = datetime.date(1958, 7, 1)
    patient.save()


def test_the_birth_year_is_asked_before_the_page_opens(client, issued, page_url, with_birth_year):
    html = client.get(page_url).content.decode()
    assert "The year you were born" in html and "Hello Jordan" not in html
    wrong = client.post(page_url + "check/", {"year": "1959"})
    assert wrong.status_code == 400 and "That is not the year we have" in wrong.content.decode()
    right = client.post(page_url + "check/", {"year": "1958"})
    assert right.status_code == 302
    assert "Hello Jordan" in client.get(page_url).content.decode()


def test_sessions_need_the_birth_year_too(client, issued, page_url, with_birth_year):
    response = post_json(client, page_url + "session/", report(issued))
    assert response.status_code == 403
    assert not SessionLog.objects.exists()


def test_wrong_birth_years_are_limited_per_link(client, issued, page_url, with_birth_year):
    for n in range(views.BIRTH_YEAR_LIMIT):
        other = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert other.post(page_url + "check/", {"year": "1950"}).status_code == 400
    response = client.post(page_url + "check/", {"year": "1958"})
    assert "Too many tries" in response.content.decode()


def test_without_a_recorded_birth_date_the_page_opens(client, issued, page_url, clinic):
    clinic.program_link_birth_year = True
    clinic.save()
    assert "Hello Jordan" in client.get(page_url).content.decode()


# Sessions.


def test_ticks_are_stored_as_they_are_made_and_once(client, issued, page_url):
    ids = item_ids(issued)
    body = report(issued, done=ids[:1])
    assert post_json(client, page_url + "session/", body).json() == {"ok": True, "finished": False}
    body["done"] = ids[:2]
    post_json(client, page_url + "session/", body)
    post_json(client, page_url + "session/", body)  # Sent again (a flaky connection).
    session = SessionLog.objects.get()
    assert sorted(session.exercises.filter(done=True).values_list("item_id", flat=True)) == ids[:2]
    assert SessionExercise.objects.count() == 2 and not session.is_finished


def test_finishing_stores_pain_difficulty_and_note(client, issued, page_url, link):
    ids = item_ids(issued)
    body = report(issued, done=ids[:2], finished=True, pain=6, note="Knee ached")
    body["difficulty"] = {str(ids[0]): "hard", str(ids[1]): "right"}
    response = post_json(client, page_url + "session/", body)
    assert response.json() == {"ok": True, "finished": True}
    session = SessionLog.objects.get()
    assert (session.pain, session.note, session.link_id) == (6, "Knee ached", link.pk)
    assert session.exercises.get(item_id=ids[0]).difficulty == "hard"
    entry = AuditEntry.objects.get(target=f"session {session.pk}")
    assert entry.actor_email == "patient (own page)" and "Knee" not in entry.detail


def test_a_finished_session_sent_again_changes_nothing(client, issued, page_url):
    ids = item_ids(issued)
    body = report(issued, done=ids, finished=True, pain=2)
    post_json(client, page_url + "session/", body)
    post_json(client, page_url + "session/", {**body, "pain": 9, "done": []})
    session = SessionLog.objects.get()
    assert session.pain == 2 and session.exercises.filter(done=True).count() == len(ids)


@pytest.mark.parametrize(
    "changes",
    [
        {"pain": 11},
        {"done": [999999]},
        {"difficulty": {"1": "impossible"}},
        {"started_at": "2099-01-01T00:00:00+00:00"},
        {"started_at": "yesterday"},
        {"session": "not-a-uuid"},
        {"note": "x" * 1001},
    ],
)
def test_a_bad_session_gets_a_clear_400_and_stores_nothing(client, issued, page_url, changes):
    response = post_json(client, page_url + "session/", report(issued, finished=True, **changes))
    assert response.status_code == 400 and response.json()["ok"] is False
    assert not SessionLog.objects.exists()


def test_malformed_json_gets_a_400(client, issued, page_url):
    response = client.post(page_url + "session/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_another_program_s_exercise_is_refused(client, issued, page_url):
    other_item = ItemFactory().pk
    response = post_json(client, page_url + "session/", report(issued, done=[other_item]))
    assert response.status_code == 400


def test_a_session_cannot_be_moved_to_another_link(client, issued, page_url, link, alice):
    body = report(issued, done=item_ids(issued)[:1])
    post_json(client, page_url + "session/", body)
    _, token = program_link_renew(link=link, actor=Actor(alice))
    response = post_json(client, f"/p/{token}/session/", body)
    assert response.status_code == 400


def test_the_plain_form_works_without_the_script(issued, page_url):
    # As a browser posts it under no-referrer: no CSRF token, "Origin: null".
    client = Client(enforce_csrf_checks=True, HTTP_ORIGIN="null")
    ids = item_ids(issued)
    data = {
        "session": str(uuid.uuid4()),
        f"done_{ids[0]}": "on",
        f"difficulty_{ids[0]}": "easy",
        "pain": "1",
        "note": "",
    }
    response = client.post(page_url + "session/", data)
    assert response.status_code == 302 and "saved=1" in response.url
    session = SessionLog.objects.get()
    assert session.pain == 1 and session.exercises.get().difficulty == "easy"
    assert "your session is saved" in client.get(response.url).content.decode()


def test_the_birth_year_cookie_never_leaves_with_another_site_s_request(
    client, issued, page_url, with_birth_year
):
    response = Client(enforce_csrf_checks=True, HTTP_ORIGIN="null").post(
        page_url + "check/", {"year": "1958"}
    )
    cookie = response.cookies[views.CHECK_COOKIE]
    assert cookie["samesite"] == "Strict" and cookie["httponly"]
    assert cookie["path"] == page_url


# The token stays out of logs.


def test_no_token_in_log_lines(client, issued, page_url):
    token = page_url.split("/")[2]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(NoProgramTokensFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("", "openhep.request", "django.server")]
    for logger in loggers:
        logger.addHandler(handler)
    old_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    try:
        client.get(page_url)
        post_json(client, page_url + "session/", report(issued))
        client.get(f"/p/{token[:-1]}x/")  # A miss is logged.
        logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 1234', page_url)
    finally:
        for logger, level in zip(loggers, old_levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    written = stream.getvalue()
    assert "/p/<token>" in written and "opens nothing" in written
    assert token not in written and token[:-1] not in written


def test_no_token_in_error_reports():
    crumb = sentry_before_breadcrumb(
        {"type": "log", "message": "GET /p/abcdefghijklmnopqrstuvwxyz/ failed"}, {}
    )
    assert crumb is not None and crumb["message"] == "GET /p/<token>/ failed"
