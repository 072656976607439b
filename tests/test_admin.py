import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from clinic.audit import Actor
from prescriptions import services
from tests.factories import ExerciseFactory, PrescriptionFactory
from tests.helpers import admin_change_data


@pytest.fixture
def one_of_each(patient, alice):
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    services.prescription_add_exercise(
        prescription=rx, exercise=ExerciseFactory(), actor=Actor(rx.therapist)
    )
    services.prescription_issue(prescription=rx, actor=Actor(alice))
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
        "exercises.Exercise",
        "exercises.Region",
        "exercises.Category",
        "exercises.Equipment",
        "prescriptions.ProgramTemplate",
    } <= registered


PATIENT_DATA = {
    "clinic.Patient",
    "prescriptions.Prescription",
    "prescriptions.PrescriptionItem",
    "prescriptions.Handout",
    "prescriptions.Delivery",
}


def test_patient_data_is_not_in_the_admin(curator_client, one_of_each):
    """No side door: patient data changes only through the services that audit it."""
    registered = {m._meta.label for m in admin.site._registry}
    assert not registered & PATIENT_DATA
    for label in PATIENT_DATA:
        app_label, model_name = label.lower().split(".")
        url = f"/admin/{app_label}/{model_name}/"
        assert curator_client.get(url).status_code == 404, url


def test_a_clinic_cannot_be_deleted_in_the_admin(curator_client, one_of_each):
    clinic = one_of_each.clinic
    url = reverse("admin:clinic_clinic_delete", args=[clinic.pk])
    assert curator_client.get(url).status_code == 403
    curator_client.post(url, {"post": "yes"})
    assert type(clinic).objects.filter(pk=clinic.pk).exists()
    assert type(one_of_each).objects.filter(pk=one_of_each.pk).exists()


def test_deleting_a_prescribed_exercise_is_refused_with_a_message(curator_client, one_of_each):
    exercise = one_of_each.items.get().exercise
    url = reverse("admin:exercises_exercise_delete", args=[exercise.pk])
    page = curator_client.get(url).content.decode()
    assert "would require deleting the following protected related objects" in page
    assert "Retire it instead" in page
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
    # Each change is in the exercise's history, with who made it.
    history = list(drafts[0].history.order_by("history_date"))
    assert [h.status for h in history] == ["draft", "published", "retired"]
    assert history[-1].history_user.email == "curator@site.example"


def test_import_a_good_file_then_a_bad_one(curator_client, tmp_path):
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    from exercises.models import Exercise

    entries = json.loads((settings.OPENHEP_LIBRARY_DIR / "exercises.json").read_text())[:5]
    slugs = {e["slug"] for e in entries}
    for entry in entries:  # links only within the five
        entry["related"] = [r for r in entry["related"] if r in slugs]
        entry["easier"] = entry.get("easier") if entry.get("easier") in slugs else ""
    url = reverse("admin:exercises_exercise_import")
    good = SimpleUploadedFile("lib.json", json.dumps(entries).encode())
    response = curator_client.post(url, {"file": good}, follow=True)
    assert "Library imported: 5 created" in response.content.decode()
    assert Exercise.objects.count() == 5

    entries[0]["summary"] = "Should not be saved."
    entries[1]["position"] = "upside-down"
    entries[2]["regions"] = ["spleen"]
    bad = SimpleUploadedFile("lib.json", json.dumps(entries).encode())
    page = curator_client.post(url, {"file": bad}).content.decode()
    assert "2 problems. Nothing was changed." in page
    assert "upside-down" in page and "unknown regions spleen" in page
    assert Exercise.objects.get(slug=entries[0]["slug"]).summary != "Should not be saved."

    not_json = SimpleUploadedFile("lib.json", b"{nope")
    assert "not valid JSON" in curator_client.post(url, {"file": not_json}).content.decode()


def test_export_selected_as_json(curator_client):
    import json

    exercise = ExerciseFactory(name="Calf raise", aliases="heel raise")
    response = curator_client.post(
        reverse("admin:exercises_exercise_changelist"),
        {"action": "export_json", "_selected_action": [exercise.pk]},
    )
    assert response["Content-Disposition"] == 'attachment; filename="openhep-exercises.json"'
    [exported] = json.loads(response.content)
    assert (exported["slug"], exported["aliases"]) == ("calf-raise", ["heel raise"])


def test_handout_preview_of_an_exercise(curator_client):
    from tests.helpers import pdf_text

    exercise = ExerciseFactory(name="Calf raise", steps=["Rise up.", "Lower slowly.", "Rest."])
    response = curator_client.get(reverse("admin:exercises_exercise_preview", args=[exercise.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Calf raise" in text and "Lower slowly." in text and "PREVIEW" in text
    change = curator_client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))
    assert "Handout preview" in change.content.decode()


def test_changes_are_kept_in_history_with_who_made_them(curator_client):
    exercise = ExerciseFactory(name="Calf raise")
    url = reverse("admin:exercises_exercise_change", args=[exercise.pk])
    data = admin_change_data(curator_client, url)
    data.update(
        {
            "summary": "A new summary.",
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
        }
    )
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = exercise.history.first()
    assert latest.summary == "A new summary."
    assert latest.history_user.email == "curator@site.example"
    history = curator_client.get(reverse("admin:exercises_exercise_history", args=[exercise.pk]))
    assert "curator@site.example" in history.content.decode()


def test_bulk_delete_of_prescribed_exercises_says_retire_instead(curator_client, one_of_each):
    exercise = one_of_each.items.get().exercise
    page = curator_client.post(
        reverse("admin:exercises_exercise_changelist"),
        {"action": "delete_selected", "_selected_action": [exercise.pk]},
    ).content.decode()
    assert "Retire them instead" in page
    assert type(exercise).objects.filter(pk=exercise.pk).exists()


def test_a_new_picture_in_place_of_a_drawing_drops_its_moving_version(db):
    """The curator's picture replaces the drawing: the exercise page must not go on
    showing the old drawing moving, nor mirror the new picture by the old side."""
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exercises.admin import ExerciseImageForm
    from exercises.models import ExerciseImage
    from tests.clinic.test_images import picture
    from tests.factories import ExerciseFactory

    drawing = ExerciseImage(
        exercise=ExerciseFactory(), alt_text="Drawn.", is_main=True, side="left"
    )
    drawing.image.save("d.svg", ContentFile(b"<svg/>"), save=False)
    drawing.animation.save("d-moving.svg", ContentFile(b"<svg/>"), save=False)
    drawing.save()
    data = {"alt_text": "A photo.", "is_main": "on", "credit": "", "order": 0}
    unchanged = ExerciseImageForm(data=data, instance=drawing)
    assert unchanged.is_valid(), unchanged.errors
    assert unchanged.save().animation.name.endswith("d-moving.svg")
    photo = SimpleUploadedFile("p.png", picture().read(), content_type="image/png")
    form = ExerciseImageForm(data=data, files={"image": photo}, instance=drawing)
    assert form.is_valid(), form.errors
    saved = form.save()
    saved.refresh_from_db()
    assert (saved.animation.name, saved.side) == ("", "")
    assert saved.image.name.endswith(".png")
