"""An exercise is added to a patient's program from the exercise's page (issue 15): to
the patient's open draft, or to a new one; clinic-scoped and audited."""

import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from prescriptions.models import Prescription
from tests.factories import ExerciseFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def add(client, exercise, patient, **kwargs):
    url = reverse("prescriptions:add_from_library", args=[exercise.slug])
    return client.post(url, {"patient": patient.pk if patient else ""}, **kwargs)


def test_the_page_offers_open_drafts_and_recent_patients(alice_client, draft, alice, clinic):
    recent = PatientFactory(clinic=clinic, first_name="Rua", last_name="Kahu")
    PrescriptionFactory(
        patient=recent, therapist=alice, status="issued", issued_at="2026-01-01T00:00Z"
    )
    exercise = ExerciseFactory(name="Heel slide")
    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert "Add to a patient's program" in page
    assert f'<option value="{draft.patient_id}">Jordan Ellis – Hips and back</option>' in page
    assert f'<option value="{recent.pk}">Rua Kahu</option>' in page


def test_adding_to_the_open_draft(alice_client, draft, patient):
    exercise = ExerciseFactory(name="Heel slide", hold_seconds=None, reps=10, side="none")
    response = add(alice_client, exercise, patient, follow=True)
    assert response.redirect_chain[-1][0] == reverse("prescriptions:edit", args=[draft.pk])
    assert "Added Heel slide." in response.content.decode()
    assert draft.items.filter(exercise=exercise).count() == 1
    assert AuditEntry.objects.filter(
        patient=patient, detail=f"Draft: exercise {exercise.pk} added"
    ).exists()


def test_a_patient_without_a_draft_gets_a_new_one(alice_client, issued, patient):
    exercise = ExerciseFactory(name="Heel slide")
    response = add(alice_client, exercise, patient, follow=True)
    new = Prescription.objects.get(patient=patient, status="draft")
    assert response.redirect_chain[-1][0] == reverse("prescriptions:edit", args=[new.pk])
    assert "Added Heel slide. A new draft for Jordan" in response.content.decode()
    assert list(new.items.values_list("exercise", flat=True)) == [exercise.pk]
    assert AuditEntry.objects.filter(
        patient=patient, action="create", target=f"prescription {new.pk}"
    )


def test_another_clinics_patient_or_exercise_is_a_404(alice_client, other_clinic, patient, draft):
    theirs = PatientFactory(clinic=other_clinic)
    exercise = ExerciseFactory()
    assert add(alice_client, exercise, theirs).status_code == 404
    their_exercise = ExerciseFactory(clinic=other_clinic)
    assert add(alice_client, their_exercise, patient).status_code == 404
    assert not Prescription.objects.filter(patient=theirs).exists()
    assert draft.items.count() == 3


def test_no_patient_chosen_or_a_retired_exercise(alice_client, draft, patient):
    exercise = ExerciseFactory()
    response = add(alice_client, exercise, None, follow=True)
    assert "Choose a patient first." in response.content.decode()
    retired = ExerciseFactory(status="retired")
    assert add(alice_client, retired, patient).status_code == 404
    assert (
        "Add to a patient's program"
        not in alice_client.get(retired.get_absolute_url()).content.decode()
    )
    assert draft.items.count() == 3
