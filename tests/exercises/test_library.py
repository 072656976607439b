import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError

from exercises.models import Exercise
from exercises.services import LibraryError, library_export, library_load, read_library_file
from tests.factories import ExerciseFactory, ItemFactory

LIBRARY = settings.OPENHEP_LIBRARY_DIR / "exercises.json"


def load(path=LIBRARY):
    return library_load(entries=read_library_file(path))


@pytest.fixture
def library(db):
    return load()


def test_bundled_library_loads_published_with_steps_and_doses(library):
    assert len(library.created) >= 60
    psoas = Exercise.objects.get(slug="psoas-stretch-standing")
    assert psoas.status == "published" and psoas.clinic is None
    assert "tight hip flexors" in psoas.indications
    assert psoas.steps.count() >= 3
    assert str(psoas.dose) == "Hold 30 seconds · 3 repetitions · each side · twice a day"
    assert "quadriceps-stretch-standing" in {e.slug for e in psoas.related.all()}
    assert {r.slug for r in psoas.regions.all()} >= {"hips-glutes"}
    for exercise in Exercise.objects.prefetch_related("steps"):
        assert len(exercise.steps.all()) >= 3, exercise.slug
        assert str(exercise.dose), exercise.slug


def test_loading_twice_changes_nothing(library):
    stamps = dict(Exercise.objects.values_list("slug", "updated_at"))
    second = load()
    assert (second.created, second.updated, second.unchanged) == (set(), set(), len(stamps))
    assert dict(Exercise.objects.values_list("slug", "updated_at")) == stamps


def test_a_newer_library_updates_texts_but_not_a_curators_retirement(library, tmp_path):
    entries = json.loads(LIBRARY.read_text())
    entries[0]["summary"] = "A rewritten summary."
    entries[0]["steps"] = ["One.", "Two.", "Three."]
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(entries))
    Exercise.objects.filter(slug=entries[0]["slug"]).update(status="retired")
    report = load(newer)
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
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_library", file=bad)
    assert Exercise.objects.get(slug=entries[0]["slug"]).summary != "Should not be saved."


def test_loading_leaves_clinics_own_exercises_alone(library, clinic):
    own = ExerciseFactory(name="Our clinic's calf raise", clinic=clinic, summary="Ours.")
    load()
    own.refresh_from_db()
    assert own.summary == "Ours."


def test_an_exercise_in_a_prescription_cannot_be_deleted(db):
    item = ItemFactory()
    with pytest.raises(ProtectedError):
        item.exercise.delete()


def test_an_import_with_errors_reports_every_bad_row_and_changes_nothing(library):
    entries = json.loads(LIBRARY.read_text())
    before = Exercise.objects.count()
    entries[0]["summary"] = "Changed"
    entries[1]["dose"]["hold_seconds"] = -5
    entries[2]["position"] = "upside-down"
    entries[3]["regions"] = ["spleen"]
    entries[4]["related"] = ["no-such-exercise"]
    entries[5]["steps"] = "one big step"
    del entries[6]["name"]
    entries.append(dict(entries[7]))
    with pytest.raises(LibraryError) as caught:
        library_load(entries=entries)
    problems = caught.value.problems
    assert len(problems) == 7, problems
    assert any(p.startswith("Row 2 ") and "hold_seconds" in p for p in problems)
    assert any(p.startswith("Row 3 ") and "upside-down" in p for p in problems)
    assert any(p.startswith("Row 4 ") and "unknown regions spleen" in p for p in problems)
    assert any(p.startswith("Row 5 ") and "no-such-exercise" in p for p in problems)
    assert any(p.startswith("Row 6 ") and "steps must be a list" in p for p in problems)
    assert any(p.startswith("Row 7 ") and "name is missing" in p for p in problems)
    assert any("appears twice" in p for p in problems)
    assert Exercise.objects.count() == before
    assert Exercise.objects.get(slug=entries[0]["slug"]).summary != "Changed"


def test_not_json_is_a_clear_problem(tmp_path):
    bad = tmp_path / "library.json"
    bad.write_text("{not json")
    with pytest.raises(LibraryError, match="not valid JSON"):
        read_library_file(bad)


def test_export_reads_back_unchanged(library):
    exported = library_export(Exercise.objects.filter(clinic__isnull=True).order_by("pk"))
    assert len(exported) == library.total
    report = library_load(entries=exported)
    assert (report.created, report.updated) == (set(), set())
    originals = {e["slug"]: e for e in json.loads(LIBRARY.read_text())}
    psoas = next(e for e in exported if e["slug"] == "psoas-stretch-standing")
    original = originals["psoas-stretch-standing"]
    for key in ("name", "steps", "cues", "dose", "regions", "aliases"):
        assert psoas[key] == original[key] or sorted(psoas[key]) == sorted(original[key]), key


def test_every_bundled_exercise_gets_its_drawing_once(library):
    from exercises.illustrations import load_poses
    from exercises.models import ExerciseImage
    from exercises.services import ILLUSTRATION_CREDIT, illustrations_load

    poses = load_poses()
    assert illustrations_load(poses=poses) == len(poses)
    assert illustrations_load(poses=poses) == 0
    drawings = ExerciseImage.objects.filter(credit=ILLUSTRATION_CREDIT)
    assert drawings.count() == Exercise.objects.count() == len(poses)
    psoas = drawings.get(exercise__slug="psoas-stretch-standing")
    assert psoas.is_main and psoas.image.name.endswith(".svg")
    assert psoas.alt_text == poses["psoas-stretch-standing"]["alt"]
    assert psoas.image.read().startswith(b"<svg")


def test_a_curators_main_picture_stays_main(library, tmp_path):
    from django.core.files.base import ContentFile

    from exercises.illustrations import load_poses
    from exercises.models import ExerciseImage
    from exercises.services import illustrations_load
    from tests.clinic.test_images import picture

    psoas = Exercise.objects.get(slug="psoas-stretch-standing")
    photo = ExerciseImage(exercise=psoas, alt_text="Photo", is_main=True)
    photo.image.save("photo.png", ContentFile(picture().read()), save=True)
    illustrations_load(poses=load_poses())
    main = psoas.images.get(is_main=True)
    assert main.pk == photo.pk and psoas.images.count() == 2


def test_a_redrawn_picture_keeps_the_old_files_that_given_programs_name(library):
    """A patient's page shows the pictures named in its program's snapshot: a library
    update that redraws them must not delete the files it names."""
    import copy

    from exercises.illustrations import load_poses
    from exercises.models import ExerciseImage
    from exercises.services import ILLUSTRATION_CREDIT, illustrations_load

    poses = load_poses()
    illustrations_load(poses=poses)
    psoas = ExerciseImage.objects.get(
        credit=ILLUSTRATION_CREDIT, exercise__slug="psoas-stretch-standing"
    )
    given = (psoas.image.name, psoas.animation.name)  # as a snapshot names them
    changed = copy.deepcopy(poses)
    changed["psoas-stretch-standing"]["alt"] += " (redrawn)"
    assert illustrations_load(poses=changed) == 1
    redrawn = ExerciseImage.objects.get(
        credit=ILLUSTRATION_CREDIT, exercise__slug="psoas-stretch-standing"
    )
    assert (redrawn.image.name, redrawn.animation.name) != given
    assert all(redrawn.image.storage.exists(name) for name in given)


def test_a_failed_redraw_keeps_the_old_drawings_and_leaves_no_new_files(library, monkeypatch):
    """A failure keeps the old drawings and deletes the new files it wrote."""
    import copy

    from exercises.illustrations import load_poses
    from exercises.models import ExerciseImage
    from exercises.services import ILLUSTRATION_CREDIT, illustrations_load

    poses = load_poses()
    illustrations_load(poses=poses)
    storage = ExerciseImage._meta.get_field("image").storage
    before = {i.image.name for i in ExerciseImage.objects.filter(credit=ILLUSTRATION_CREDIT)}
    changed = copy.deepcopy(poses)
    for pose in changed.values():
        pose["alt"] += " (redrawn)"
    save, saved = ExerciseImage.save, []

    def fail_on_the_third(self, *args, **kwargs):
        if len(saved) == 2:
            raise RuntimeError("disk full")
        saved.append(self.image.name)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(ExerciseImage, "save", fail_on_the_third)
    with pytest.raises(RuntimeError):
        illustrations_load(poses=changed)
    after = {i.image.name for i in ExerciseImage.objects.filter(credit=ILLUSTRATION_CREDIT)}
    assert after == before
    assert all(storage.exists(name) for name in before)
    assert saved and not any(storage.exists(name) for name in saved if name not in before)
