import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError

from exercises.models import Exercise
from exercises.services import library_load
from tests.factories import ExerciseFactory, ItemFactory

LIBRARY = settings.OPENHEP_LIBRARY_DIR / "exercises.json"


@pytest.fixture
def library(db):
    return library_load(path=LIBRARY)


def test_bundled_library_loads_published_with_steps_and_doses(library):
    assert len(library.created) >= 60
    psoas = Exercise.objects.get(slug="psoas-stretch-standing")
    assert psoas.status == "published" and psoas.clinic is None
    assert "tight hip flexors" in psoas.indications
    assert psoas.steps.count() >= 3
    assert str(psoas.dose) == "Hold 30 seconds · 3 times · each side · twice a day"
    assert "quadriceps-stretch-standing" in {e.slug for e in psoas.related.all()}
    assert {r.slug for r in psoas.regions.all()} >= {"hips-glutes"}
    for exercise in Exercise.objects.prefetch_related("steps"):
        assert len(exercise.steps.all()) >= 3, exercise.slug
        assert str(exercise.dose), exercise.slug


def test_loading_twice_changes_nothing(library):
    stamps = dict(Exercise.objects.values_list("slug", "updated_at"))
    second = library_load(path=LIBRARY)
    assert (second.created, second.updated, second.unchanged) == (set(), set(), len(stamps))
    assert dict(Exercise.objects.values_list("slug", "updated_at")) == stamps


def test_a_newer_library_updates_texts_but_not_a_curators_retirement(library, tmp_path):
    entries = json.loads(LIBRARY.read_text())
    entries[0]["summary"] = "A rewritten summary."
    entries[0]["steps"] = ["One.", "Two.", "Three."]
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(entries))
    Exercise.objects.filter(slug=entries[0]["slug"]).update(status="retired")
    report = library_load(path=newer)
    assert report.updated == {entries[0]["slug"]}
    exercise = Exercise.objects.get(slug=entries[0]["slug"])
    assert exercise.summary == "A rewritten summary."
    assert [s.text for s in exercise.steps.all()] == ["One.", "Two.", "Three."]
    assert exercise.status == "retired"


def test_a_bad_library_file_changes_nothing(library, tmp_path):
    entries = json.loads(LIBRARY.read_text())
    entries[0]["summary"] = "Should not be saved."
    entries[-1]["regions"] = ["elbow-of-the-knee"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(entries))
    with pytest.raises(CommandError, match="unknown region elbow-of-the-knee"):
        call_command("load_library", file=bad)
    assert Exercise.objects.get(slug=entries[0]["slug"]).summary != "Should not be saved."


def test_loading_leaves_clinics_own_exercises_alone(library, clinic):
    own = ExerciseFactory(name="Our clinic's calf raise", clinic=clinic, summary="Ours.")
    library_load(path=LIBRARY)
    own.refresh_from_db()
    assert own.summary == "Ours."


def test_an_exercise_in_a_prescription_cannot_be_deleted(db):
    item = ItemFactory()
    with pytest.raises(ProtectedError):
        item.exercise.delete()
