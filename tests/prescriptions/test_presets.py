"""Dose presets per exercise category (issue 15): a clinic admin sets them on a page
beside the clinic settings; an exercise added to a plan starts with the preset of its
first category, or else with its own default dose."""

import pytest
from django.urls import reverse

from clinic.audit import Actor
from clinic.models import AuditEntry
from exercises.models import Category
from prescriptions import services
from prescriptions.models import DosePreset
from tests.factories import ExerciseFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def categories(db):
    stretch = Category.objects.create(slug="stretch", name="Stretch", order=1)
    strengthen = Category.objects.create(slug="strengthen", name="Strengthen", order=2)
    return stretch, strengthen


def rows(formset_page: str) -> int:
    return formset_page.count('class="border rounded p-2 mb-2 dose-preset')


def post_data(categories, **doses) -> dict:
    """The presets form: ``doses`` by category slug, the other categories left empty."""
    data = {"preset-TOTAL_FORMS": len(categories), "preset-INITIAL_FORMS": len(categories)}
    for n, category in enumerate(categories):
        data[f"preset-{n}-category"] = category.pk
        data[f"preset-{n}-side"] = "none"
        for name, value in doses.get(category.slug, {}).items():
            data[f"preset-{n}-{name}"] = value
    return data


def test_an_admin_sets_a_preset_and_it_is_audited(clinic_admin_client, clinic, categories):
    url = reverse("dose_presets")
    page = clinic_admin_client.get(url).content.decode()
    assert rows(page) == 2 and "Stretch" in page and "Strengthen" in page
    settings_page = clinic_admin_client.get(reverse("clinic_settings")).content.decode()
    assert url in settings_page

    data = post_data(categories, stretch={"hold_seconds": 45, "reps": 2, "side": "each"})
    response = clinic_admin_client.post(url, data, follow=True)
    assert "Dose presets saved (1 changed)." in response.content.decode()
    preset = DosePreset.objects.get(clinic=clinic)
    assert preset.category == categories[0]
    assert (preset.hold_seconds, preset.reps, preset.side) == (45, 2, "each")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SETTINGS)
    assert entry.detail == "Dose presets: Stretch" and entry.patient is None

    # The same again changes nothing and writes nothing; emptying the row removes it.
    clinic_admin_client.post(url, data)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SETTINGS).count() == 1
    clinic_admin_client.post(url, post_data(categories))
    assert not DosePreset.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SETTINGS).count() == 2


def test_a_preset_without_an_amount_is_refused(clinic_admin_client, categories):
    data = post_data(categories, strengthen={"side": "each", "times_per_day": 2})
    response = clinic_admin_client.post(reverse("dose_presets"), data)
    assert response.status_code == 400
    assert "Give at least a hold time or a number of times." in response.content.decode()
    assert not DosePreset.objects.exists()


def test_a_category_twice_or_gone_is_a_clear_refusal(clinic_admin_client, categories):
    stretch, _ = categories
    data = post_data([stretch, stretch], stretch={"reps": 5})
    response = clinic_admin_client.post(reverse("dose_presets"), data)
    assert response.status_code == 400
    assert "Stretch is listed twice: reload the page." in response.content.decode()
    gone = post_data(categories, stretch={"reps": 5}) | {"preset-1-category": 999999}
    response = clinic_admin_client.post(reverse("dose_presets"), gone)
    assert response.status_code == 400
    assert "no longer in the library" in response.content.decode()
    assert not DosePreset.objects.exists()


def test_therapists_cannot_edit_presets(alice_client, categories):
    assert alice_client.get(reverse("dose_presets")).status_code == 403
    data = post_data(categories, stretch={"reps": 5})
    assert alice_client.post(reverse("dose_presets"), data).status_code == 403
    assert not DosePreset.objects.exists()


def test_an_added_exercise_starts_with_its_first_categorys_preset(
    clinic, other_clinic, patient, alice, categories
):
    stretch, strengthen = categories
    DosePreset.objects.create(clinic=clinic, category=strengthen, reps=10, sets=3)
    DosePreset.objects.create(clinic=clinic, category=stretch, hold_seconds=60, side="each")
    DosePreset.objects.create(clinic=other_clinic, category=stretch, hold_seconds=5)
    both = ExerciseFactory(name="Both", hold_seconds=20, reps=1)
    both.categories.set([strengthen, stretch])  # stretch comes first by order
    only_strengthen = ExerciseFactory(name="Strong", hold_seconds=20, reps=1)
    only_strengthen.categories.set([strengthen])
    plain = ExerciseFactory(name="Plain", hold_seconds=20, reps=1, side="left")
    rx = PrescriptionFactory(patient=patient, therapist=alice)

    def added(exercise):
        item = services.prescription_add_exercise(
            prescription=rx, exercise=exercise, actor=Actor(alice)
        )
        return item.dose.as_dict()

    assert added(both) == {**DosePreset(hold_seconds=60, side="each").dose.as_dict()}
    assert added(only_strengthen) == DosePreset(reps=10, sets=3).dose.as_dict()
    assert added(plain) == plain.dose.as_dict()  # no category: its own dose, as before


def test_the_first_category_decides_even_without_a_preset(clinic, patient, alice, categories):
    """Only the first category's preset counts: another category's preset is not used."""
    stretch, strengthen = categories
    DosePreset.objects.create(clinic=clinic, category=strengthen, reps=10, sets=3)
    exercise = ExerciseFactory(hold_seconds=20, reps=1)
    exercise.categories.set([stretch, strengthen])
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    item = services.prescription_add_exercise(
        prescription=rx, exercise=exercise, actor=Actor(alice)
    )
    assert item.dose == exercise.dose
