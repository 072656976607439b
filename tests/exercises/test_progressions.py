"""Easier and harder versions of an exercise: the link, its rules, the library file's
chains and the exercise page."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from exercises.models import Exercise
from exercises.selectors import progression, versions_for
from exercises.services import LibraryError, library_export, library_load
from tests.exercises.test_clinic_exercises import exercise_data
from tests.exercises.test_library import LIBRARY, load
from tests.factories import ExerciseFactory


@pytest.fixture
def chain(db):
    """Wall push-up → knee push-up → push-up, and a second harder version of the knee one."""
    wall = ExerciseFactory(name="Wall push-up")
    knee = ExerciseFactory(name="Knee push-up", easier=wall)
    push = ExerciseFactory(name="Push-up", easier=knee)
    incline = ExerciseFactory(name="Incline push-up", easier=knee)
    return wall, knee, push, incline


def test_a_loop_is_refused(chain):
    wall, knee, push, _ = chain
    wall.easier = push
    with pytest.raises(ValidationError) as error:
        wall.full_clean()
    assert "a loop" in " ".join(error.value.message_dict["easier"])
    wall.easier = wall
    with pytest.raises(ValidationError) as error:
        wall.full_clean()
    assert error.value.message_dict["easier"] == ["An exercise cannot be its own easier version."]
    push.easier = wall  # Another way down, no loop.
    push.full_clean()


def test_scope_a_shared_exercise_links_to_shared_ones_only(clinic, other_clinic):
    shared = ExerciseFactory(name="Shared one")
    own = ExerciseFactory(name="Our own", clinic=clinic)
    theirs = ExerciseFactory(name="Their own", clinic=other_clinic)
    harder = ExerciseFactory(name="Shared harder", easier=own)
    with pytest.raises(ValidationError) as error:
        harder.full_clean()
    assert "must be a shared exercise" in " ".join(error.value.message_dict["easier"])
    mine = ExerciseFactory(name="Our harder", clinic=clinic, easier=shared)
    mine.full_clean()  # A clinic's own may link to a shared exercise…
    mine.easier = own
    mine.full_clean()  # …or to its own…
    mine.easier = theirs
    with pytest.raises(ValidationError) as error:  # …but not to another clinic's.
        mine.full_clean()
    assert "one of this clinic's own" in " ".join(error.value.message_dict["easier"])


def test_progression_in_order_and_only_what_the_clinic_sees(chain, clinic, other_clinic):
    wall, knee, push, incline = chain
    assert progression(knee, clinic) == [[wall], [knee], [incline, push]]
    assert progression(push, clinic) == [[wall], [knee], [push]]
    hidden = ExerciseFactory(name="Clap push-up", clinic=other_clinic, easier=push)
    draft = ExerciseFactory(name="One-arm push-up", status=Exercise.Status.DRAFT, easier=push)
    assert progression(push, clinic) == [[wall], [knee], [push]]
    assert progression(hidden, other_clinic)[-1] == [hidden]
    assert draft not in {e for step in progression(wall, clinic) for e in step}
    lonely = ExerciseFactory(name="Lonely")
    assert progression(lonely, clinic) == [[lonely]]
    assert versions_for([wall, knee, push, lonely], clinic) == {
        wall.pk: (None, knee),
        knee.pk: (wall, incline),
        push.pk: (knee, None),
        lonely.pk: (None, None),
    }


def test_the_exercise_page_shows_the_chain(alice_client, chain):
    wall, knee, push, incline = chain
    page = alice_client.get(reverse("exercises:detail", args=[knee.slug])).content.decode()
    assert "Easier and harder versions" in page
    assert page.index("Wall push-up") < page.index("<strong>Knee push-up</strong>")
    assert page.index("<strong>Knee push-up</strong>") < page.index(push.get_absolute_url())
    assert f'href="{incline.get_absolute_url()}"' in page
    lonely = ExerciseFactory(name="Lonely")
    page = alice_client.get(reverse("exercises:detail", args=[lonely.slug])).content.decode()
    assert "Easier and harder versions" not in page


def test_the_bundled_library_links_its_chains(db):
    load()
    slug = dict(Exercise.objects.filter(easier__isnull=False).values_list("slug", "easier__slug"))
    assert slug["chin-tuck"] == "chin-nod-lying"
    assert slug["single-leg-clock-reach"] == "single-leg-balance"
    assert slug["single-leg-balance"] == "tandem-stance"
    assert slug["straight-leg-raise"] == "quad-set"
    assert len(slug) >= 8
    for exercise in Exercise.objects.filter(easier__isnull=False):
        exercise.full_clean()  # In scope and no loops.
    second = load()
    assert (second.created, second.updated) == (set(), set())


def test_a_file_changing_a_link_updates_it_and_a_bad_one_changes_nothing(db, tmp_path):
    load()
    entries = json.loads(LIBRARY.read_text())
    by_slug = {e["slug"]: e for e in entries}
    by_slug["chin-tuck"].pop("easier")
    by_slug["plank"]["easier"] = "dead-bug"
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(entries))
    report = load(newer)
    assert report.updated == {"chin-tuck", "plank"}
    assert Exercise.objects.get(slug="chin-tuck").easier is None
    assert Exercise.objects.get(slug="plank").easier.slug == "dead-bug"
    by_slug["dead-bug"]["easier"] = "plank"
    by_slug["bird-dog"]["easier"] = "no-such-exercise"
    by_slug["cat-cow"]["easier"] = "cat-cow"
    with pytest.raises(LibraryError) as error:
        library_load(entries=entries)
    problems = " ".join(error.value.problems)
    assert "plank: its easier versions come back to it (a loop)." in problems
    assert "easier version not in the file: no-such-exercise" in problems
    assert "an exercise cannot be its own easier version" in problems
    assert Exercise.objects.get(slug="dead-bug").easier is None


def test_export_writes_the_link_back(db):
    load()
    exported = {e["slug"]: e for e in library_export(Exercise.objects.all())}
    assert exported["chin-tuck"]["easier"] == "chin-nod-lying"
    assert exported["chin-nod-lying"]["easier"] == ""


def test_a_clinics_own_exercise_names_its_easier_version(alice_client, clinic, other_clinic):
    shared = ExerciseFactory(name="Shared calf stretch")
    theirs = ExerciseFactory(name="Their calf stretch", clinic=other_clinic)
    page = alice_client.get(reverse("exercises:create")).content.decode()
    assert "Shared calf stretch" in page and "Their calf stretch" not in page
    response = alice_client.post(reverse("exercises:create"), exercise_data(easier=theirs.pk))
    assert "Select a valid choice" in response.content.decode()
    alice_client.post(reverse("exercises:create"), exercise_data(easier=shared.pk))
    own = Exercise.objects.get(name="Towel calf stretch")
    assert (own.clinic, own.easier) == (clinic, shared)
    # Its own as the easier one of a second: fine; then the first pointing back: a loop.
    harder = ExerciseFactory(name="Our harder stretch", clinic=clinic, easier=own)
    url = reverse("exercises:edit", args=[own.slug])
    response = alice_client.post(url, exercise_data(easier=harder.pk))
    assert "a loop" in response.content.decode()
    own.refresh_from_db()
    assert own.easier == shared
