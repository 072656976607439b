"""A draft the therapist no longer wants is deleted, asked first; an issued program never."""

import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from prescriptions.models import Prescription, PrescriptionItem

pytestmark = pytest.mark.django_db


def test_the_builder_and_the_drafts_page_offer_it(alice_client, draft):
    for name in ("prescriptions:edit", "prescriptions:detail"):
        page = alice_client.get(reverse(name, args=[draft.pk])).content.decode()
        assert "Delete this draft…" in page
        assert reverse("prescriptions:delete_draft", args=[draft.pk]) in page
        assert f"and its {draft.items.count()} exercises go for good" in page


def test_deleting_a_draft_removes_it_and_its_exercises(alice_client, draft, patient):
    items = list(draft.items.values_list("pk", flat=True))
    response = alice_client.post(reverse("prescriptions:delete_draft", args=[draft.pk]))
    assert response.status_code == 302 and response.url == patient.get_absolute_url()
    assert not Prescription.objects.filter(pk=draft.pk).exists()
    assert not PrescriptionItem.objects.filter(pk__in=items).exists()
    count = len(items)
    entry = AuditEntry.objects.get(detail__startswith="Deleted the draft")
    assert entry.target == f"prescription {draft.pk}" and entry.patient == patient
    assert entry.detail == f"Deleted the draft ({count} exercises)"
    page = alice_client.get(patient.get_absolute_url()).content.decode()
    assert "Draft “Hips and back” deleted." in page
    assert "Hips and back</a>" not in page


def test_an_issued_program_is_never_deleted(alice_client, issued):
    response = alice_client.post(
        reverse("prescriptions:delete_draft", args=[issued.pk]), follow=True
    )
    assert Prescription.objects.filter(pk=issued.pk).exists()
    assert "Only a draft can be deleted" in response.content.decode()
    assert not AuditEntry.objects.filter(detail__startswith="Deleted the draft").exists()
    page = alice_client.get(reverse("prescriptions:detail", args=[issued.pk])).content.decode()
    assert "Delete this draft" not in page


def test_another_clinic_cannot_delete_it(client, charlie, draft):
    client.force_login(charlie)
    assert client.post(reverse("prescriptions:delete_draft", args=[draft.pk])).status_code == 404
    assert Prescription.objects.filter(pk=draft.pk).exists()


def test_a_get_deletes_nothing(alice_client, draft):
    assert (
        alice_client.get(reverse("prescriptions:delete_draft", args=[draft.pk])).status_code == 405
    )
    assert Prescription.objects.filter(pk=draft.pk).exists()
