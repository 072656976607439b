"""One click starts a new version with an exercise made easier or harder."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.audit import Actor
from clinic.models import AuditEntry
from exercises.dose import Dose
from exercises.models import Category, Exercise, Region
from prescriptions import services
from prescriptions.models import Prescription
from prescriptions.services.progressions import scaled_dose
from tests.factories import ExerciseFactory, ItemFactory, PrescriptionFactory

EASY, MODERATE, HARD = (
    Exercise.Difficulty.EASY,
    Exercise.Difficulty.MODERATE,
    Exercise.Difficulty.HARD,
)


@pytest.fixture
def hip():
    return Region.objects.create(slug="hip", name="Hip")


@pytest.fixture
def stretch():
    return Category.objects.create(slug="stretch", name="Stretch")


@pytest.fixture
def strengthen():
    return Category.objects.create(slug="strengthen", name="Strengthen")


def tagged(name, difficulty, *, regions=(), categories=(), **fields):
    exercise = ExerciseFactory(name=name, difficulty=difficulty, **fields)
    exercise.regions.set(regions)
    exercise.categories.set(categories)
    return exercise


def issue(patient, alice, *exercises, **dose) -> Prescription:
    rx = PrescriptionFactory(patient=patient, therapist=alice, title="Hips")
    for exercise in exercises:
        item = services.prescription_add_exercise(
            prescription=rx, exercise=exercise, actor=Actor(alice)
        )
        for name, value in dose.items():
            setattr(item, name, value)
        item.save()
    services.prescription_issue(prescription=rx, actor=Actor(alice))
    rx.refresh_from_db()
    return rx


def adjust(rx, alice, *, easier: bool, index: int = 0):
    item = list(rx.items.all())[index]
    return services.prescription_adjust_item(item=item, easier=easier, actor=Actor(alice))


def test_easier_swaps_for_a_related_easier_exercise(patient, alice, hip, stretch):
    lunge = tagged("Kneeling lunge stretch", MODERATE, regions=[hip], categories=[stretch])
    standing = tagged(
        "Standing hip flexor stretch", EASY, hold_seconds=20, reps=4, sets=None, side="each"
    )
    unpublished = tagged("Draft stretch", EASY, status=Exercise.Status.DRAFT)
    lunge.related.add(standing, unpublished)
    rx = issue(patient, alice, lunge, times_per_day=1, days_per_week=5, side="left")

    result = adjust(rx, alice, easier=True)

    draft = result.draft
    assert draft.is_draft and draft.supersedes == rx
    [item] = draft.items.all()
    assert item.exercise == standing
    # The new exercise's amount; the patient's routine (how often, which side) kept.
    assert (item.hold_seconds, item.reps, item.sets) == (20, 4, None)
    assert (item.times_per_day, item.days_per_week, item.side) == (1, 5, "left")
    assert "swapped for Standing hip flexor stretch" in result.summary
    # The issued version is untouched.
    assert rx.items.get().exercise == lunge
    details = list(
        AuditEntry.objects.filter(target=f"prescription {draft.pk}").values_list("action", "detail")
    )
    assert ("create", f"New version of prescription {rx.pk}") in details
    assert (
        "change",
        f"Draft: exercise {lunge.pk} made easier, swapped for exercise {standing.pk}",
    ) in details


def test_harder_takes_the_nearest_step_of_the_same_region_and_kind(
    patient, alice, hip, stretch, strengthen
):
    easy = tagged("Lying hip stretch", EASY, regions=[hip], categories=[stretch])
    tagged("Advanced hip stretch", HARD, regions=[hip], categories=[stretch])
    moderate = tagged("Half-kneeling hip stretch", MODERATE, regions=[hip], categories=[stretch])
    tagged("Hip thrust", MODERATE, regions=[hip], categories=[strengthen])
    rx = issue(patient, alice, easy)

    result = adjust(rx, alice, easier=False)

    assert result.draft.items.get().exercise == moderate


def test_without_a_swap_the_dose_is_scaled_by_about_a_third(patient, alice):
    plank = tagged("Plank", MODERATE)
    rx = issue(patient, alice, plank, hold_seconds=30, reps=12, sets=3)

    easier = adjust(rx, alice, easier=True)
    item = easier.draft.items.get()
    assert item.exercise == plank
    assert (item.hold_seconds, item.reps, item.sets) == (20, 8, 3)
    assert easier.summary == (
        "Plank: Hold 20 seconds · 8 repetitions, 3 sets (was Hold 30 seconds · 12 repetitions, "
        "3 sets)."
    )
    assert AuditEntry.objects.filter(
        detail=f"Draft: exercise {plank.pk} made easier, dose scaled"
    ).exists()


def test_a_second_click_changes_the_same_draft(patient, alice):
    first, second = tagged("Wall sit", MODERATE), tagged("Calf raise", MODERATE)
    rx = issue(patient, alice, first, second, hold_seconds=None, reps=10, sets=2)

    one = adjust(rx, alice, easier=True, index=0)
    two = adjust(rx, alice, easier=False, index=1)

    assert one.draft == two.draft
    assert [item.reps for item in two.draft.items.all()] == [7, 13]
    assert Prescription.objects.filter(supersedes=rx).count() == 1


def test_at_the_lightest_dose_nothing_is_kept(patient, alice):
    tiny = tagged("Breathing", EASY)
    rx = issue(patient, alice, tiny, hold_seconds=None, reps=1, sets=None)
    with pytest.raises(ValidationError, match="already at its lightest dose"):
        adjust(rx, alice, easier=True)
    # The draft the click began is rolled back with the refusal.
    assert not Prescription.objects.filter(supersedes=rx).exists()


@pytest.mark.parametrize(
    ("dose", "easier", "expected"),
    [
        (Dose(hold_seconds=30, reps=3), True, Dose(hold_seconds=20, reps=2)),
        (Dose(hold_seconds=30, reps=3), False, Dose(hold_seconds=40, reps=4)),
        (Dose(hold_seconds=10), True, Dose(hold_seconds=7)),
        (Dose(hold_seconds=45), False, Dose(hold_seconds=60)),
        (Dose(reps=2), True, Dose(reps=1)),
        (Dose(sets=3), True, Dose(sets=2)),
        (Dose(reps=10, sets=3), False, Dose(reps=13, sets=3)),
        (Dose(reps=1), True, Dose(reps=1)),
        (Dose(reps=500), False, Dose(reps=500)),
    ],
)
def test_scaled_dose(dose, easier, expected):
    assert scaled_dose(dose, easier=easier) == expected


def test_the_button_opens_the_draft_in_the_builder(alice_client, issued):
    item = issued.items.first()
    response = alice_client.post(
        reverse("prescriptions:adjust", args=[issued.pk]),
        {"item": item.pk, "direction": "harder"},
        follow=True,
    )
    draft = Prescription.objects.get(supersedes=issued)
    assert response.redirect_chain[-1][0] == reverse("prescriptions:edit", args=[draft.pk])
    assert "New version started" in response.content.decode()


def test_the_button_refuses_an_item_of_another_program(alice_client, issued, patient):
    stranger = ItemFactory(prescription=PrescriptionFactory(patient=patient))
    response = alice_client.post(
        reverse("prescriptions:adjust", args=[issued.pk]),
        {"item": stranger.pk, "direction": "easier"},
        follow=True,
    )
    assert "not in this program" in response.content.decode()
    assert not Prescription.objects.filter(supersedes=issued).exists()


def test_a_draft_cannot_be_adjusted(alice_client, draft):
    response = alice_client.post(
        reverse("prescriptions:adjust", args=[draft.pk]),
        {"item": draft.items.first().pk, "direction": "easier"},
        follow=True,
    )
    assert "Only the current issued version can be changed." in response.content.decode()
