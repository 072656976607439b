import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from exercises.dose import NO_AMOUNT, Dose
from tests.exercises.test_library import LIBRARY
from tests.factories import ExerciseFactory


@pytest.mark.parametrize(
    ("dose", "words"),
    [
        (
            Dose(hold_seconds=30, reps=3, side="each", times_per_day=2),
            "Hold 30 seconds · 3 repetitions · each side · twice a day",
        ),
        (Dose(hold_seconds=45, reps=1), "Hold 45 seconds · 1 repetition"),
        (Dose(hold_seconds=120), "Hold 2 minutes"),
        (Dose(hold_seconds=1), "Hold 1 second"),
        (Dose(reps=12, sets=3, days_per_week=4), "12 repetitions, 3 sets · 4 days a week"),
        (
            Dose(reps=10, side="left", times_per_day=1, days_per_week=7),
            "10 repetitions · left side only · once a day",
        ),
        (Dose(reps=8, days_per_week=7), "8 repetitions · every day"),
        (
            Dose(reps=5, times_per_day=3, days_per_week=1),
            "5 repetitions · 3 times a day · 1 day a week",
        ),
        (Dose(sets=3, hold_seconds=20), "Hold 20 seconds · 3 sets"),
        (Dose(), ""),
    ],
)
def test_dose_reads_as_plain_words(dose, words):
    assert str(dose) == words


def test_times_means_only_how_often_a_day():
    """A repeated movement is a repetition; "times" is kept for "3 times a day"."""
    words = str(Dose(reps=10, sets=3, times_per_day=3))
    assert words == "10 repetitions, 3 sets · 3 times a day"
    assert words.count("times") == 1


@pytest.mark.parametrize(
    ("side", "amount", "line"),
    [
        ("none", "Hold 45 seconds · 7 repetitions", ""),
        ("each", "Hold 45 seconds · 7 repetitions", "Both sides, one after the other"),
        ("left", "Hold 45 seconds · 7 repetitions", "Left side only"),
        ("right", "Hold 45 seconds · 7 repetitions", "Right side only"),
    ],
)
def test_the_handout_prints_the_side_on_its_own_line(side, amount, line):
    dose = Dose(hold_seconds=45, reps=7, side=side)
    assert (dose.amount, dose.side_line) == (amount, line)


def test_one_set_is_not_mentioned():
    assert "set" not in str(Dose(reps=10, sets=1))


@pytest.mark.parametrize(
    "dose", [Dose(hold_seconds=5), Dose(reps=1), Dose(sets=2), Dose(reps=3, side="each")]
)
def test_a_dose_with_an_amount_is_valid(dose):
    dose.validate()


@pytest.mark.parametrize("dose", [Dose(), Dose(side="each", times_per_day=2, days_per_week=7)])
def test_a_dose_without_an_amount_is_refused_on_the_hold_field(dose):
    with pytest.raises(ValidationError) as caught:
        dose.validate()
    assert caught.value.message_dict == {"hold_seconds": [NO_AMOUNT]}


NO_AMOUNT_DOSE = {"hold_seconds": None, "reps": None, "sets": None, "times_per_day": 2}


def test_the_staff_form_the_builder_the_admin_and_the_library_share_the_rule(
    alice_client, draft, django_user_model, client
):
    """One rule, one message, wherever a dose is written."""
    from exercises.services import library_problems
    from tests.exercises.test_clinic_exercises import exercise_data
    from tests.prescriptions.test_builder import builder_data

    # The clinic's own exercise form.
    blank = {name: "" for name in ("hold_seconds", "reps", "sets")}
    response = alice_client.post(reverse("exercises:create"), exercise_data(**blank))
    assert response.context["form"].errors["hold_seconds"] == [NO_AMOUNT]
    # The builder's items.
    url = reverse("prescriptions:edit", args=[draft.pk])
    items = {f"items-0-{name}": "" for name in blank}
    response = alice_client.post(url, builder_data(draft, **items))
    assert response.context["formset"].forms[0].errors["hold_seconds"] == [NO_AMOUNT]
    # The library file (it used to load an exercise with no amount).
    entry = json.loads(LIBRARY.read_text())[0]
    entry.update(related=[], easier="", dose=NO_AMOUNT_DOSE)
    assert library_problems([entry]) == [f"Row 1 ({entry['slug']}): hold_seconds: {NO_AMOUNT}"]
    # The Django admin (it used to save one).
    exercise = ExerciseFactory(name="Calf raise")
    curator = django_user_model.objects.create_superuser("curator@site.example", "pw-curator-1")
    client.force_login(curator)
    url = reverse("admin:exercises_exercise_change", args=[exercise.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if not isinstance(value, list | tuple)
    }
    data.update(blank)
    for inline in ("steps", "images"):
        data.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hold_seconds"] == [NO_AMOUNT]
    exercise.refresh_from_db()
    assert exercise.hold_seconds == 30
