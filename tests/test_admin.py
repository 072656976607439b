import pytest
from django.contrib import admin
from django.urls import reverse

from prescriptions import services
from tests.factories import ExerciseFactory, PrescriptionFactory


@pytest.fixture
def curator_client(client, django_user_model):
    curator = django_user_model.objects.create_superuser("curator@site.example", "pw-curator-1")
    client.force_login(curator)
    return client


@pytest.fixture
def one_of_each(patient, alice):
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    services.prescription_add_exercise(prescription=rx, exercise=ExerciseFactory())
    services.prescription_issue(prescription=rx, by=alice)
    return rx


def test_every_registered_model_lists_and_opens(curator_client, one_of_each):
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert curator_client.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert curator_client.get(change).status_code == 200, change


def test_the_library_models_are_curated_in_the_admin():
    registered = {m._meta.label for m in admin.site._registry}
    assert {
        "clinic.Clinic",
        "clinic.User",
        "clinic.Membership",
        "clinic.Patient",
        "exercises.Exercise",
        "exercises.Region",
        "exercises.Category",
        "exercises.Equipment",
        "prescriptions.Prescription",
        "prescriptions.Handout",
        "prescriptions.Delivery",
    } <= registered


def test_deleting_a_prescribed_exercise_is_refused_with_a_message(curator_client, one_of_each):
    exercise = one_of_each.items.get().exercise
    url = reverse("admin:exercises_exercise_delete", args=[exercise.pk])
    page = curator_client.get(url).content.decode()
    assert "would require deleting the following protected related objects" in page
    curator_client.post(url, {"post": "yes"})
    assert type(exercise).objects.filter(pk=exercise.pk).exists()


def test_bulk_publish_and_retire(curator_client):
    drafts = ExerciseFactory.create_batch(2, status="draft")
    url = reverse("admin:exercises_exercise_changelist")
    curator_client.post(url, {"action": "publish", "_selected_action": [e.pk for e in drafts]})
    assert {e.status for e in type(drafts[0]).objects.filter(pk__in=[d.pk for d in drafts])} == {
        "published"
    }
    curator_client.post(url, {"action": "retire", "_selected_action": [drafts[0].pk]})
    drafts[0].refresh_from_db()
    assert drafts[0].status == "retired"
