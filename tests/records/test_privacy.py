"""A patient's copy of their record, their erasure, and patient data kept out of
error reports."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEntry, Patient
from patientpage.models import FollowUp, ReminderPlan, ReminderSent, SessionExercise, SessionLog
from prescriptions import links
from prescriptions.models import Delivery, Handout, Prescription, PrescriptionItem, ProgramLink

NOTES = "Lumbar disc bulge, L4/5"


def test_export_holds_everything_and_the_handouts_as_issued(clinic_admin_client, patient, issued):
    Delivery.objects.create(
        prescription=issued, recipient=patient.email, status=Delivery.Status.SENT
    )
    response = clinic_admin_client.post(reverse("patients:export", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    # The file name carries the id, never the name.
    assert f"patient-{patient.pk}-export-" in response["Content-Disposition"]
    assert "Ellis" not in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    record = json.loads(archive.read("patient.json"))
    assert record["patient"]["last_name"] == "Ellis"
    assert record["patient"]["email"] == "jordan@patient.example"
    [rx] = record["prescriptions"]
    assert rx["title"] == "Hips and back" and rx["status"] == "issued"
    assert [item["exercise"] for item in rx["exercises"]] == [
        "Standing psoas stretch",
        "Standing quadriceps stretch",
        "Glute bridge",
    ]
    assert rx["exercises"][2]["dose"].startswith("12 repetitions, 3 sets")
    assert rx["emails"][0]["recipient"] == "jordan@patient.example"
    pdf = archive.read(rx["handout"]["file"])
    assert hashlib.sha256(pdf).hexdigest() == issued.handout.sha256 == rx["handout"]["sha256"]
    # The export itself is in the trail (and in the next export's access log).
    assert AuditEntry.objects.filter(patient=patient, action="export").count() == 1


def test_therapists_cannot_export_or_erase(alice_client, patient):
    assert alice_client.post(reverse("patients:export", args=[patient.pk])).status_code == 403
    assert alice_client.get(reverse("patients:erase", args=[patient.pk])).status_code == 403
    response = alice_client.post(
        reverse("patients:erase", args=[patient.pk]), {"confirm_name": "Jordan Ellis"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_erase_needs_the_name_typed(clinic_admin_client, patient):
    page = clinic_admin_client.get(reverse("patients:erase", args=[patient.pk])).content.decode()
    assert "cannot be undone" in page
    response = clinic_admin_client.post(
        reverse("patients:erase", args=[patient.pk]), {"confirm_name": "Jordan Elis"}
    )
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_erase_removes_records_and_files_and_keeps_an_anonymous_trail(
    clinic_admin_client, alice_client, patient, issued, django_capture_on_commit_callbacks
):
    pdf_name = issued.handout.pdf.name
    assert default_storage.exists(pdf_name)
    Delivery.objects.create(prescription=issued, recipient=patient.email)
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    patient_id = patient.pk

    with django_capture_on_commit_callbacks(execute=True):
        response = clinic_admin_client.post(
            reverse("patients:erase", args=[patient.pk]), {"confirm_name": " jordan  ELLIS "}
        )
    assert response.status_code == 302 and response.url == reverse("patients:list")

    assert not Patient.objects.filter(pk=patient_id).exists()
    assert not Prescription.objects.filter(pk=issued.pk).exists()
    assert not PrescriptionItem.objects.filter(prescription_id=issued.pk).exists()
    assert not Handout.objects.exists() and not Delivery.objects.exists()
    assert not default_storage.exists(pdf_name)

    trail = AuditEntry.objects.filter(patient_ref=patient_id)
    assert set(trail.values_list("action", flat=True)) >= {"view", "erase"}
    for entry in trail.values():
        assert entry["patient_id"] is None
        text = " ".join(str(value) for value in entry.values())
        assert "Ellis" not in text and "Jordan" not in text and "jordan@" not in text
    page = clinic_admin_client.get(reverse("audit_log"), {"patient": patient_id}).content.decode()
    assert f"#{patient_id}" in page and "(erased)" in page and "Ellis" not in page


def test_error_reports_carry_no_patient_data(rf, settings, patient):
    """A 500's report (email to ADMINS, the log) shows field names, never values.

    The values come from the patient record: the report shows source lines around
    each frame, and those must not contain the words the test looks for."""
    import sys

    from django.views.debug import get_exception_reporter_filter

    from openhep.logs import NoPatientDataReporter

    settings.DEBUG = False
    patient.notes = NOTES
    request = rf.post(
        f"/patients/?q={patient.last_name}",
        {"first_name": patient.first_name, "last_name": patient.last_name, "notes": patient.notes},
    )
    request.user = patient.created_by

    request.META["RAW_URI"] = request.get_full_path()
    request.META["HTTP_HX_CURRENT_URL"] = f"http://testserver/?q={patient.last_name}"

    def view(record):
        raise ValueError(f"invalid literal: {record.first_name!r}")

    try:
        view(patient)
    except ValueError:
        exc_info = sys.exc_info()
    reporter = NoPatientDataReporter(request, *exc_info)
    assert isinstance(get_exception_reporter_filter(request), type(reporter.filter))
    text = reporter.get_traceback_text() + reporter.get_traceback_html()
    assert "ValueError" in text and "message hidden" in text
    for value in (patient.last_name, patient.first_name, patient.notes):
        assert value not in text
    assert "first_name" in text  # The field names stay, for debugging.
    assert settings.DEFAULT_EXCEPTION_REPORTER == "openhep.logs.NoPatientDataReporter"


def test_logs_of_a_whole_flow_hold_no_patient_data(alice_client, patient, draft, caplog):
    caplog.set_level("DEBUG")
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    alice_client.post(reverse("prescriptions:issue", args=[draft.pk]))
    alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    alice_client.post(reverse("patients:list"), {"q": "Ellis"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Ellis" not in logged and "jordan@patient.example" not in logged


def test_export_with_a_missing_handout_file_still_gives_the_rest(
    clinic_admin_client, patient, issued
):
    default_storage.delete(issued.handout.pdf.name)
    response = clinic_admin_client.post(reverse("patients:export", args=[patient.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert json.loads(archive.read("patient.json"))["patient"]["last_name"] == "Ellis"
    assert f"prescription-{issued.pk}.pdf" in archive.read("MISSING.txt").decode()


def test_opening_the_edit_form_or_the_erase_page_is_a_view(clinic_admin_client, patient):
    clinic_admin_client.get(reverse("patients:edit", args=[patient.pk]))
    clinic_admin_client.get(reverse("patients:erase", args=[patient.pk]))
    details = list(
        AuditEntry.objects.filter(patient=patient, action="view")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == ["Opened the edit form", "Opened the erase page"]


@pytest.fixture
def page_activity(issued, alice):
    """What Jordan did on their page: two sessions (one from paper), reminders and a
    follow-up."""
    from clinic.audit import Actor
    from patientpage.services import session_enter_from_paper
    from tests.patientpage.helpers import log

    link = ProgramLink.objects.get(prescription=issued)
    psoas, quads, bridge = issued.items.all()
    page = log(
        issued,
        timezone.localdate() - datetime.timedelta(days=2),
        done=[psoas, quads],
        difficulty={bridge: "hard", psoas: "right"},
        pain=6,
        note="Bridge pinches my back.",
    )
    SessionLog.objects.filter(pk=page.pk).update(link=link)
    session_enter_from_paper(
        prescription=issued,
        day=timezone.localdate() - datetime.timedelta(days=1),
        done={psoas.pk},
        pain=3,
        actor=Actor(alice),
    )
    plan = ReminderPlan.objects.create(
        link=link,
        patient=issued.patient,
        email=issued.patient.email,
        weekdays="135",
        time=datetime.time(7, 30),
        time_zone="Australia/Melbourne",
        consent_at=timezone.now(),
        consent_text="Email me reminders.",
    )
    ReminderSent.objects.create(plan=plan, kind=ReminderSent.Kind.REMINDER, due_at=timezone.now())
    FollowUp.objects.create(
        clinic=issued.clinic,
        patient=issued.patient,
        prescription=issued,
        session=page,
        reason=FollowUp.Reason.TOO_HARD,
    )
    return link


def test_export_holds_what_the_patient_did_on_their_page(
    clinic_admin_client, patient, issued, page_activity
):
    response = clinic_admin_client.post(reverse("patients:export", args=[patient.pk]))
    record = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("patient.json"))

    page, paper = record["sessions"]
    assert page["source"] == "page" and paper["source"] == "paper"
    assert page["pain"] == 6 and page["note"] == "Bridge pinches my back."
    assert {(e["exercise"], e["done"], e["difficulty"]) for e in page["exercises"]} == {
        ("Standing psoas stretch", True, "right"),
        ("Standing quadriceps stretch", True, ""),
        ("Glute bridge", False, "hard"),
    }
    assert paper["entered_by"] == "alice@clinic.example" and paper["pain"] == 3
    [plan] = record["reminder_plans"]
    assert plan["weekdays"] == "135" and plan["time"] == "07:30:00"
    assert plan["consent_text"] == "Email me reminders." and len(plan["sent"]) == 1
    [follow_up] = record["follow_ups"]
    assert follow_up["reason"] == "too_hard" and follow_up["session"] == page["id"]
    assert follow_up["reason_text"] == "Found an exercise too hard"
    [link] = record["program_links"]
    assert link["id"] == page_activity.pk and link["ended_at"] is None
    # Nothing in the export opens the patient's page.
    text = json.dumps(record)
    token = links.token_of(page_activity)
    assert token and token not in text
    assert page_activity.token_hash not in text and page_activity.nonce not in text


def test_erase_removes_what_the_patient_did_on_their_page(
    clinic_admin_client, patient, issued, page_activity
):
    response = clinic_admin_client.post(
        reverse("patients:erase", args=[patient.pk]), {"confirm_name": "Jordan Ellis"}
    )
    assert response.status_code == 302
    for model in (
        SessionLog,
        SessionExercise,
        ReminderPlan,
        ReminderSent,
        FollowUp,
        ProgramLink,
        PrescriptionItem,
    ):
        assert not model.objects.exists(), model.__name__
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ERASE)
    assert "2 logged sessions" in entry.detail
