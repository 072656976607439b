"""The audit trail: who viewed, printed, emailed, changed, exported or erased which
patient's record, and when. Clinic admins read and filter it; nobody edits it."""

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEntry
from prescriptions.models import Delivery, ProgramLink
from tests.factories import PatientFactory


def actions(patient):
    return list(
        AuditEntry.objects.filter(patient_ref=patient.pk)
        .order_by("pk")
        .values_list("actor_email", "action", "target", "detail")
    )


def test_every_sensitive_action_leaves_an_entry(
    alice_client, patient, draft, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    AuditEntry.objects.all().delete()
    rx = f"prescription {draft.pk}"
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    alice_client.post(
        reverse("patients:edit", args=[patient.pk]),
        {"first_name": "Jordan", "last_name": "Ellis", "email": "new@patient.example"},
    )
    alice_client.get(reverse("prescriptions:edit", args=[draft.pk]))
    alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    alice_client.post(reverse("prescriptions:issue", args=[draft.pk]))
    alice_client.get(reverse("prescriptions:detail", args=[draft.pk]))
    alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    patient.refresh_from_db()
    alice_client.post(reverse("patients:consent", args=[patient.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("prescriptions:email", args=[draft.pk]),
            {"recipient": patient.email, "request_key": "6a0d6c3e-7a35-4b3a-9a55-1b2b3c4d5e6f"},
        )
    assert Delivery.objects.get().status == Delivery.Status.SENT
    a = "alice@clinic.example"
    assert actions(patient) == [
        (a, "view", "", ""),
        (a, "change", "", "Changed: email, consents to handouts by email"),
        (a, "view", rx, "Opened in the builder"),
        (a, "print", rx, "Draft preview"),
        (a, "change", f"program link {ProgramLink.objects.get().pk}", "Created"),
        (a, "change", rx, "Issued"),
        (a, "view", rx, ""),
        (a, "print", rx, "Handout PDF"),
        (a, "change", "", "Consent to email handouts recorded"),
        (a, "email", rx, "Handout emailed"),
    ]
    entry = AuditEntry.objects.first()
    assert entry.ip_address == "127.0.0.1"
    assert entry.clinic_id == patient.clinic_id


def test_entries_hold_no_personal_data(alice_client, clinic):
    """What was typed (names, notes, emails) never goes into an entry."""
    response = alice_client.post(
        reverse("patients:create"),
        {"first_name": "Unique", "last_name": "Zanzibar", "email": "z@patient.example"},
    )
    assert response.status_code == 302
    for entry in AuditEntry.objects.values():
        text = " ".join(str(value) for value in entry.values())
        assert "Zanzibar" not in text and "z@patient.example" not in text


def test_therapists_cannot_read_the_trail(alice_client):
    assert alice_client.get(reverse("audit_log")).status_code == 403


def test_admin_reads_and_filters_the_trail(
    clinic_admin_client, alice_client, patient, clinic, alice
):
    other = PatientFactory(clinic=clinic, last_name="Other")
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    alice_client.get(reverse("patients:detail", args=[other.pk]))
    page = clinic_admin_client.get(reverse("audit_log")).content.decode()
    assert "alice@clinic.example" in page and "Viewed" in page
    assert page.count("<tr>") == 1 + 2  # Header and two entries.

    page = clinic_admin_client.get(reverse("audit_log"), {"patient": other.pk}).content.decode()
    assert page.count("<tr>") == 1 + 1 and "Other" in page
    page = clinic_admin_client.get(reverse("audit_log"), {"action": "erase"}).content.decode()
    assert "No entries match these filters" in page
    page = clinic_admin_client.get(reverse("audit_log"), {"actor": alice.pk}).content.decode()
    assert page.count("<tr>") == 3
    page = clinic_admin_client.get(
        reverse("audit_log"), {"since": "2001-01-01", "until": "2001-01-02"}
    ).content.decode()
    assert "No entries match" in page


@pytest.mark.parametrize(
    "params",
    [
        {"patient": "abc"},
        {"patient": "-4"},
        {"patient": "9" * 40},
        {"since": "2025-02-30"},
        {"until": "9999-12-31"},
        {"actor": "999999"},
        {"action": "<script>"},
    ],
)
def test_bad_filters_are_form_errors_not_500(clinic_admin_client, params):
    response = clinic_admin_client.get(reverse("audit_log"), params)
    assert response.status_code == 200


def test_other_clinics_entries_are_not_shown(clinic_admin_client, charlie, other_clinic):
    stranger = PatientFactory(clinic=other_clinic, last_name="Stranger")
    browser = Client()
    browser.force_login(charlie)
    browser.get(reverse("patients:detail", args=[stranger.pk]))
    assert AuditEntry.objects.filter(patient_ref=stranger.pk).exists()
    page = clinic_admin_client.get(reverse("audit_log")).content.decode()
    assert "charlie@other.example" not in page and "Stranger" not in page
    page = clinic_admin_client.get(reverse("audit_log"), {"patient": stranger.pk}).content.decode()
    assert "No entries match" in page


def test_entries_cannot_be_changed_in_the_admin(client, patient, alice_client, admin_user):
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    entry = AuditEntry.objects.get()
    client.force_login(admin_user)
    assert client.get(reverse("admin:clinic_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:clinic_auditentry_add")).status_code == 403
    url = reverse("admin:clinic_auditentry_change", args=[entry.pk])
    assert client.post(url, {"action": "print", "actor_email": "x@y.example"}).status_code == 403
    delete = reverse("admin:clinic_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "view"


def test_a_change_is_not_kept_without_its_audit_entry(alice_client, patient, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(AuditEntry.objects, "create", fail)
    with pytest.raises(RuntimeError):
        alice_client.post(
            reverse("patients:edit", args=[patient.pk]),
            {"first_name": "Changed", "last_name": "Ellis", "email": patient.email},
        )
    patient.refresh_from_db()
    assert patient.first_name == "Jordan"
